/** Sequential container and the homework's multi-layer perceptron. */
import { type DType, Rng, type Tensor } from "@nabla/ndarray";
import { ReLU } from "./activations.js";
import { check, NnError } from "./errors.js";
import { Linear } from "./linear.js";
import type { Module, Parameter } from "./module.js";

/**
 * Runs modules in order; backward runs them in reverse. Parameter names are prefixed
 * with the module's index ("0.weight", "2.bias"), as in PyTorch.
 */
export class Sequential implements Module {
  readonly modules: readonly Module[];
  private readonly params: Parameter[];

  constructor(modules: Module[]) {
    check(Array.isArray(modules), "Sequential", "expected an array of modules");
    this.modules = [...modules];
    this.params = this.modules.flatMap((m, i) =>
      m.parameters().map((p) => ({ name: `${i}.${p.name}`, value: p.value, grad: p.grad })),
    );
  }

  forward(x: Tensor): Tensor {
    let h = x;
    for (const m of this.modules) h = m.forward(h);
    return h;
  }

  backward(dY: Tensor): Tensor | null {
    let g: Tensor | null = dY;
    for (let i = this.modules.length - 1; i >= 0; i--) {
      if (g === null) {
        throw new NnError(
          `Sequential.backward: module ${i + 1} returned no input gradient but module ${i} needs one`,
        );
      }
      g = this.modules[i].backward(g);
    }
    return g;
  }

  parameters(): Parameter[] {
    return this.params;
  }

  zeroGrad(): void {
    for (const m of this.modules) m.zeroGrad();
  }
}

export interface MLPOptions {
  /** Seed of the Rng that draws every initial weight. */
  seed: number;
  dtype?: DType;
  /**
   * Compute dL/dinput in backward (default false: nothing needs it during training and
   * skipping it saves the largest of the first layer's three GEMMs).
   */
  computeInputGrad?: boolean;
}

/**
 * Linear → ReLU → … → Linear: `hiddenDims.length` hidden layers, no activation after
 * the last layer (it returns logits for {@link SoftmaxCrossEntropy}).
 *
 * Initialisation, reproducible by anyone holding the seed: one `new Rng(seed)` fills
 * `layers[0].weight`, then `layers[1].weight`, … each row-major (out×in) with
 * `rng.fillNormal(weight, 0, std)`, std = √(1/in) for layer 0 and √(2/in) for the others;
 * biases are zero and draw nothing. Equivalently: read `layers[k].weight`/`.bias`.
 *
 * Parameters are named "layers.k.weight" / "layers.k.bias".
 */
export class MLP implements Module {
  readonly inputDim: number;
  readonly hiddenDims: readonly number[];
  readonly classes: number;
  readonly dtype: DType;
  readonly layers: Linear[];
  readonly activations: ReLU[];
  private readonly sequence: Sequential;
  private readonly params: Parameter[];

  constructor(inputDim: number, hiddenDims: number[], classes: number, opts: MLPOptions) {
    check(Array.isArray(hiddenDims), "MLP", "hiddenDims must be an array of positive integers");
    for (const d of hiddenDims) {
      check(Number.isInteger(d) && d >= 1, "MLP", `hiddenDims must hold positive integers, got ${d}`);
    }
    check(opts !== undefined && Number.isFinite(opts.seed), "MLP", "opts.seed (a number) is required");
    this.inputDim = inputDim;
    this.hiddenDims = [...hiddenDims];
    this.classes = classes;
    this.dtype = opts.dtype ?? "float32";
    const rng = new Rng(opts.seed);
    const dims = [inputDim, ...hiddenDims, classes];
    this.layers = [];
    this.activations = [];
    const modules: Module[] = [];
    for (let k = 0; k + 1 < dims.length; k++) {
      const layer = new Linear(dims[k], dims[k + 1], {
        rng,
        dtype: this.dtype,
        init: k === 0 ? "kaiming-input" : "kaiming",
        computeInputGrad: k > 0 || (opts.computeInputGrad ?? false),
      });
      this.layers.push(layer);
      modules.push(layer);
      if (k + 2 < dims.length) {
        const act = new ReLU();
        this.activations.push(act);
        modules.push(act);
      }
    }
    this.sequence = new Sequential(modules);
    this.params = this.layers.flatMap((layer, k) =>
      layer.parameters().map((p) => ({ name: `layers.${k}.${p.name}`, value: p.value, grad: p.grad })),
    );
  }

  forward(x: Tensor): Tensor {
    return this.sequence.forward(x);
  }

  /** Returns dL/dinput when constructed with computeInputGrad, otherwise null. */
  backward(dY: Tensor): Tensor | null {
    return this.sequence.backward(dY);
  }

  parameters(): Parameter[] {
    return this.params;
  }

  zeroGrad(): void {
    this.sequence.zeroGrad();
  }
}
