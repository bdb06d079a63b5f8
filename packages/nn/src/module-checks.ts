/**
 * Gradient checks of modules and losses (Question 2), built on {@link gradcheck}.
 * Everything runs in float64. For a module with output Y, the scalar checked is
 * L = Σ G ∘ Y with a fixed random upstream gradient G, so backward(G) must equal dL/dθ.
 */
import { Rng, softmaxRows, type Tensor, toFloat64, zeros } from "@nabla/ndarray";
import { ReLU, Softmax } from "./activations.js";
import { NnError } from "./errors.js";
import { type GradientCheck, gradcheck } from "./gradcheck.js";
import { Linear } from "./linear.js";
import { CrossEntropy, SoftmaxCrossEntropy } from "./losses.js";
import type { Loss, Module } from "./module.js";
import { MLP } from "./sequential.js";
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

/** Σ_ij A_ij B_ij over two 2-D tensors of equal shape, any strides. */
function innerProduct(a: Tensor, b: Tensor): number {
  const [rows, cols] = a.shape;
  let s = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      s +=
        a.data[a.offset + i * a.stride[0] + j * a.stride[1]] *
        b.data[b.offset + i * b.stride[0] + j * b.stride[1]];
    }
  }
  return s;
}

/** A contiguous float64 copy of the tensor's values in row-major order. */
function snapshot(t: Tensor): Float64Array {
  return Float64Array.from(toFloat64(t).data);
}

/**
 * Checks `module.backward` against central differences: one record for the input
 * (unless backward returns null) and one per parameter. `input` (float64, 2-D) is
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

function randomLabels(rng: Rng, count: number, classes: number): Int32Array {
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) labels[i] = Math.min(classes - 1, Math.floor(rng.uniform() * classes));
  return labels;
}

/**
 * The Question 2 verification table: every module's backward against central
 * differences, in float64, on a batch of 4 with 5 input features and 3 outputs:
 * Linear (weight, bias, input), ReLU (inputs kept ≥ 0.01 away from the kink, where the
 * derivative is undefined), Softmax, CrossEntropy on softmax probabilities, fused
 * SoftmaxCrossEntropy on logits, and an MLP 5→4→3 under SoftmaxCrossEntropy (every
 * parameter). Inputs are standard normal from `new Rng(seed)`.
 */
export function checkQ2Gradients(opts: { seed?: number } = {}): GradientCheck[] {
  const seed = opts.seed ?? 0;
  const rng = new Rng(seed);
  const batch = 4;
  const inDim = 5;
  const outDim = 3;
  const normal = (rows: number, cols: number) => {
    const t = zeros([rows, cols], "float64");
    rng.fillNormal(t, 0, 1);
    return t;
  };
  const results: GradientCheck[] = [];

  const linear = new Linear(inDim, outDim, { rng, dtype: "float64" });
  // Non-zero bias so the check does not start from the trivial initial value.
  rng.fillNormal(linear.bias, 0, 1);
  results.push(...checkModuleGradients(linear, normal(batch, inDim), { seed, name: "Linear" }));

  const reluInput = normal(batch, inDim);
  const rd = reluInput.data;
  for (let i = 0; i < rd.length; i++) rd[i] = rd[i] >= 0 ? rd[i] + 0.01 : rd[i] - 0.01;
  results.push(...checkModuleGradients(new ReLU(), reluInput, { seed, name: "ReLU" }));

  results.push(...checkModuleGradients(new Softmax(), normal(batch, inDim), { seed, name: "Softmax" }));

  const probabilities = zeros([batch, inDim], "float64");
  softmaxRows(probabilities, normal(batch, inDim));
  const labels = randomLabels(rng, batch, inDim);
  results.push(checkLossGradients(new CrossEntropy(), probabilities, labels, { name: "CrossEntropy" }));

  results.push(
    checkLossGradients(new SoftmaxCrossEntropy(), normal(batch, inDim), labels, {
      name: "SoftmaxCrossEntropy",
    }),
  );

  const mlp = new MLP(inDim, [4], outDim, { seed, dtype: "float64" });
  for (const layer of mlp.layers) rng.fillNormal(layer.bias, 0, 0.1);
  results.push(
    ...checkNetworkGradients(
      mlp,
      new SoftmaxCrossEntropy(),
      normal(batch, inDim),
      randomLabels(rng, batch, outDim),
      {
        name: "MLP + SoftmaxCrossEntropy",
      },
    ),
  );
  return results;
}
