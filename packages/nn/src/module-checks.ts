/**
 * Gradient checks of modules, losses and whole networks, built on {@link gradcheck}.
 * Everything runs in float64. For a module with output Y, the scalar checked is
 * L = Σ G ∘ Y with a fixed random upstream gradient G, so backward(G) must equal dL/dθ.
 */
import { Rng, type Tensor, toFloat64, zeros } from "@nabla/ndarray";
import { NnError } from "./errors.js";
import { type GradientCheck, gradcheck } from "./gradcheck.js";
import type { Loss, Module } from "./module.js";
import { dtypeOf } from "./tensors.js";

export interface ModuleCheckOptions {
  /** Seed of the random upstream gradient G (default 0). */
  seed?: number;
  /** Name recorded in each result (default "module"). */
  name?: string;
  h?: number;
}

function requireFloat64(t: Tensor, where: string): void {
  if (dtypeOf(t, where) !== "float64") {
    throw new NnError(`${where}: gradient checks need float64 tensors (a 1e-5 step is lost in float32)`);
  }
}

/** Σ A ∘ B over two tensors of equal shape (any rank, any strides). */
function innerProduct(a: Tensor, b: Tensor): number {
  const av = snapshot(a);
  const bv = snapshot(b);
  let s = 0;
  for (let i = 0; i < av.length; i++) s += av[i] * bv[i];
  return s;
}

/** A contiguous float64 copy of the tensor's values in row-major order. */
function snapshot(t: Tensor): Float64Array {
  return Float64Array.from(toFloat64(t).data);
}

/**
 * Checks `module.backward` against central differences: one record for the input
 * (unless backward returns null) and one per parameter. `input` (float64, any batch shape) is
 * copied; the module's parameters must be float64. The module's gradients are zeroed
 * and left holding the analytical values.
 */
export function checkModuleGradients(
  module: Module,
  input: Tensor,
  opts: ModuleCheckOptions = {},
): GradientCheck[] {
  const name = opts.name ?? "module";
  requireFloat64(input, `checkModuleGradients(${name}): input`);
  for (const p of module.parameters()) requireFloat64(p.value, `checkModuleGradients(${name}): ${p.name}`);
  const x = toFloat64(input);
  const y0 = module.forward(x);
  const upstream = zeros(y0.shape, "float64");
  new Rng(opts.seed ?? 0).fillNormal(upstream, 0, 1);

  module.zeroGrad();
  module.forward(x);
  const dX = module.backward(upstream);
  const inputGrad = dX === null ? null : snapshot(dX);
  const paramGrads = module.parameters().map((p) => snapshot(p.grad));

  const loss = () => innerProduct(module.forward(x), upstream);
  const results: GradientCheck[] = [];
  if (inputGrad !== null) {
    results.push(
      gradcheck(loss, x.data as Float64Array, inputGrad, {
        name,
        wrt: "input",
        shape: [...x.shape],
        h: opts.h,
      }),
    );
  }
  module.parameters().forEach((p, k) => {
    const f = gradcheck(loss, p.value.data as Float64Array, paramGrads[k], {
      name,
      wrt: p.name,
      shape: [...p.value.shape],
      h: opts.h,
    });
    results.push(f);
  });
  return results;
}

/** Checks `loss.backward()` (dL/dinput) against central differences of `loss.forward`. */
export function checkLossGradients(
  loss: Loss,
  input: Tensor,
  labels: ArrayLike<number>,
  opts: { name?: string; h?: number } = {},
): GradientCheck {
  const name = opts.name ?? "loss";
  requireFloat64(input, `checkLossGradients(${name}): input`);
  const x = toFloat64(input);
  loss.forward(x, labels);
  const analytical = snapshot(loss.backward());
  return gradcheck(() => loss.forward(x, labels), x.data as Float64Array, analytical, {
    name,
    wrt: "input",
    shape: [...x.shape],
    h: opts.h,
  });
}

/**
 * Checks the parameter gradients of loss(model(input), labels) — the whole
 * forward/backward chain used in training — one record per parameter.
 */
export function checkNetworkGradients(
  model: Module,
  loss: Loss,
  input: Tensor,
  labels: ArrayLike<number>,
  opts: { name?: string; h?: number } = {},
): GradientCheck[] {
  const name = opts.name ?? "network";
  requireFloat64(input, `checkNetworkGradients(${name}): input`);
  const x = toFloat64(input);
  model.zeroGrad();
  loss.forward(model.forward(x), labels);
  model.backward(loss.backward());
  const params = model.parameters();
  for (const p of params) requireFloat64(p.value, `checkNetworkGradients(${name}): ${p.name}`);
  const analytical = params.map((p) => snapshot(p.grad));
  const f = () => loss.forward(model.forward(x), labels);
  return params.map((p, k) =>
    gradcheck(f, p.value.data as Float64Array, analytical[k], {
      name,
      wrt: p.name,
      shape: [...p.value.shape],
      h: opts.h,
    }),
  );
}
