/** The module contract shared by every layer, its base class, and the loss contract. */
import { fill, type Parameter, type Tensor } from "@nabla/ndarray";
import { fail } from "./errors.js";
import { dtypeOf } from "./tensors.js";

export type { Parameter } from "@nabla/ndarray";

/**
 * A named tensor a module keeps but does not train (PyTorch's buffers, e.g. BatchNorm's `running_mean`).
 * `integer` marks a buffer that only ever holds whole numbers (`num_batches_tracked`): nabla stores it as
 * a float64 tensor, which is exact up to 2^53, and safetensors files carry it as I64 as PyTorch does.
 */
export interface Buffer {
  name: string;
  value: Tensor;
  integer?: boolean;
}

export interface LoadStateDictOptions {
  /** When true (the default), a key the module lacks or a tensor missing from the dict is an error. */
  strict?: boolean;
}

/**
 * A layer with an explicit backward pass.
 *
 * - `forward(x)` returns the output and remembers what `backward` needs (a reference
 *   to `x` or to its own output). The returned tensor is a buffer owned by the module
 *   and is overwritten by the next `forward` with the same batch shape; copy it if you
 *   need to keep it. The caller must not modify `x` between `forward` and `backward`.
 * - `backward(dY)` takes dL/dY for the last forward, ACCUMULATES dL/dθ into each
 *   parameter's `grad` (like PyTorch: call `zeroGrad()` before each step), and returns
 *   dL/dX, or null when the module was told not to compute it.
 * - `train()` / `eval()` switch `training`, which layers such as BatchNorm1d and Dropout read.
 * - `stateDict()` maps PyTorch-style names to the live parameter and buffer tensors (not copies);
 *   `loadStateDict` copies values into that storage.
 */
export interface Module {
  forward(x: Tensor): Tensor;
  backward(dY: Tensor): Tensor | null;
  parameters(): Parameter[];
  zeroGrad(): void;
  readonly training: boolean;
  train(mode?: boolean): this;
  eval(): this;
  buffers(): Buffer[];
  stateDict(): Record<string, Tensor>;
  loadStateDict(dict: Record<string, Tensor>, opts?: LoadStateDictOptions): void;
}

/**
 * Defaults for everything but forward and backward: no parameters or buffers, a `training` flag,
 * zeroGrad over `parameters()`, and the state dict built from parameters and buffers.
 */
export abstract class ModuleBase implements Module {
  training = true;

  abstract forward(x: Tensor): Tensor;
  abstract backward(dY: Tensor): Tensor | null;

  parameters(): Parameter[] {
    return [];
  }

  buffers(): Buffer[] {
    return [];
  }

  zeroGrad(): void {
    for (const p of this.parameters()) fill(p.grad, 0);
  }

  train(mode = true): this {
    this.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  stateDict(): Record<string, Tensor> {
    return stateDictOf(this);
  }

  loadStateDict(dict: Record<string, Tensor>, opts: LoadStateDictOptions = {}): void {
    loadStateDictInto(this, dict, opts);
  }
}

/**
 * A child's parameter under a container's name. `grad` is read through on every access, since a module may
 * hand out its gradient lazily (Linear zeroes a deferred gradient when it is read).
 */
export function prefixedParameter(prefix: string, p: Parameter): Parameter {
  return {
    name: `${prefix}${p.name}`,
    value: p.value,
    get grad() {
      return p.grad;
    },
  };
}

/** Parameters then buffers, keyed by name, in module order (the order PyTorch's state_dict has). */
export function stateDictOf(module: Pick<Module, "parameters" | "buffers">): Record<string, Tensor> {
  const dict: Record<string, Tensor> = {};
  for (const p of module.parameters()) dict[p.name] = p.value;
  for (const b of module.buffers()) dict[b.name] = b.value;
  return dict;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Copies `dict` into the module's live tensors after validating every entry, so a failed load leaves the
 * module unchanged. Values are copied element by element, so a strided source is fine.
 */
export function loadStateDictInto(
  module: Pick<Module, "parameters" | "buffers">,
  dict: Record<string, Tensor>,
  opts: LoadStateDictOptions = {},
): void {
  const strict = opts.strict ?? true;
  const own = stateDictOf(module);
  if (strict) {
    for (const key of Object.keys(dict)) {
      if (!(key in own))
        fail(
          "loadStateDict",
          `unexpected key "${key}" (the module has ${Object.keys(own).join(", ") || "no tensors"})`,
        );
    }
    for (const key of Object.keys(own)) {
      if (!(key in dict)) fail("loadStateDict", `missing key "${key}"`);
    }
  }
  const pairs: [Tensor, Tensor][] = [];
  for (const [key, target] of Object.entries(own)) {
    const source = dict[key];
    if (source === undefined) continue;
    if (!sameShape(source.shape, target.shape)) {
      fail("loadStateDict", `"${key}" must have shape [${target.shape}], got [${source.shape}]`);
    }
    const want = dtypeOf(target, "loadStateDict");
    const got = dtypeOf(source, `loadStateDict: "${key}"`);
    if (want !== got) fail("loadStateDict", `"${key}" must be ${want}, got ${got}`);
    pairs.push([source, target]);
  }
  for (const [source, target] of pairs) copyValues(source, target);
}

/** Row-major element copy from any-strided `source` into the contiguous `target` of the same shape. */
function copyValues(source: Tensor, target: Tensor): void {
  const dims = source.shape.length;
  const n = target.size;
  const idx = new Array<number>(dims).fill(0);
  for (let k = 0; k < n; k++) {
    let o = source.offset;
    for (let d = 0; d < dims; d++) o += idx[d] * source.stride[d];
    target.data[target.offset + k] = source.data[o];
    for (let d = dims - 1; d >= 0; d--) {
      if (++idx[d] < source.shape[d]) break;
      idx[d] = 0;
    }
  }
}

/**
 * A loss on a 2-D [batch, classes] input and integer class labels. `forward` returns
 * the mean loss over the batch; `backward()` returns dL/dinput for that forward.
 */
export interface Loss {
  forward(input: Tensor, labels: ArrayLike<number>): number;
  backward(): Tensor;
}
