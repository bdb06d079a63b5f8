/** Sequential container and the homework's multi-layer perceptron. */
import { type DType, Rng, type Tensor } from "@nabla/ndarray";
import { ReLU } from "./activations.js";
import { check, NnError } from "./errors.js";
import { Linear } from "./linear.js";
import { type Buffer, type Module, ModuleBase, type Parameter, prefixedParameter } from "./module.js";

export interface SequentialOptions {
  /** Shape of one sample of the last module's output, when known (buildSequential records it). */
  outShape?: readonly number[];
}

/**
 * Runs modules in order; backward runs them in reverse. Parameter and buffer names are
 * prefixed with the module's index ("0.weight", "2.running_mean"), as in PyTorch's
 * nn.Sequential; train()/eval() switch every child.
 */
export class Sequential extends ModuleBase {
  readonly modules: readonly Module[];
  readonly outShape: readonly number[] | undefined;
  private readonly params: Parameter[];

  constructor(modules: Module[], opts: SequentialOptions = {}) {
    super();
    check(Array.isArray(modules), "Sequential", "expected an array of modules");
    this.modules = [...modules];
    this.outShape = opts.outShape;
    this.params = this.modules.flatMap((m, i) => m.parameters().map((p) => prefixedParameter(`${i}.`, p)));
  }

  override train(mode = true): this {
    this.training = mode;
    for (const m of this.modules) m.train(mode);
    return this;
  }

  override buffers(): Buffer[] {
    return this.modules.flatMap((m, i) => m.buffers().map((b) => ({ ...b, name: `${i}.${b.name}` })));
  }

  /** Child by child (each child's parameters, then its buffers), the order of PyTorch's state_dict. */
  override stateDict(): Record<string, Tensor> {
    const dict: Record<string, Tensor> = {};
    this.modules.forEach((m, i) => {
      for (const [key, value] of Object.entries(m.stateDict())) dict[`${i}.${key}`] = value;
    });
    return dict;
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

  override parameters(): Parameter[] {
    return this.params;
  }

  override zeroGrad(): void {
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
export class MLP extends ModuleBase {
  readonly inputDim: number;
  readonly hiddenDims: readonly number[];
  readonly classes: number;
  readonly dtype: DType;
  readonly layers: Linear[];
  readonly activations: ReLU[];
  private readonly sequence: Sequential;
  private readonly params: Parameter[];

  constructor(inputDim: number, hiddenDims: number[], classes: number, opts: MLPOptions) {
    super();
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
      layer.parameters().map((p) => prefixedParameter(`layers.${k}.`, p)),
    );
  }

  forward(x: Tensor): Tensor {
    return this.sequence.forward(x);
  }

  /** Returns dL/dinput when constructed with computeInputGrad, otherwise null. */
  backward(dY: Tensor): Tensor | null {
    return this.sequence.backward(dY);
  }

  override parameters(): Parameter[] {
    return this.params;
  }

  override zeroGrad(): void {
    this.sequence.zeroGrad();
  }

  override train(mode = true): this {
    this.training = mode;
    this.sequence.train(mode);
    return this;
  }
}
