/** Fully connected layer Y = X Wᵀ + b with W of shape out×in (the PyTorch layout). */
import {
  add,
  addRowVector,
  type DType,
  fill,
  gemm,
  type Rng,
  residentZeros,
  sumAxis0,
  type Tensor,
  zeros,
} from "@nabla/ndarray";
import { check, NnError } from "./errors.js";
import { ModuleBase, type Parameter } from "./module.js";
import { asRows, BufferCache, expect2d, expectDtype, expectSameShape, inShapeOf } from "./tensors.js";

/**
 * Weight initialisation.
 * - "kaiming": N(0, 2/in), i.e. std √(2/in) — He et al. for layers fed by a ReLU.
 * - "kaiming-input": N(0, 1/in), std √(1/in) — for the first layer, whose input is
 *   not a ReLU output, so no factor 2 is needed to keep the variance.
 * Biases always start at zero.
 */
export type LinearInit = "kaiming" | "kaiming-input";

export interface LinearOptions {
  /** Source of the initial weights: `weight` is filled row-major with `rng.fillNormal`. */
  rng: Rng;
  /** Storage type of parameters and buffers; inputs must match. Default "float32". */
  dtype?: DType;
  init?: LinearInit;
  /** When false, `backward` skips dX = dY·W and returns null (for a first layer). Default true. */
  computeInputGrad?: boolean;
}

/** Standard deviation of the initial weights for a layer with `inDim` inputs. */
export function initStd(inDim: number, init: LinearInit): number {
  return Math.sqrt((init === "kaiming" ? 2 : 1) / inDim);
}

interface LinearBuffers {
  y: Tensor;
  dx: Tensor | null;
}

export class Linear extends ModuleBase {
  readonly inDim: number;
  readonly outDim: number;
  readonly dtype: DType;
  readonly computeInputGrad: boolean;
  /** out×in, contiguous. */
  readonly weight: Tensor;
  /** length out, contiguous. */
  readonly bias: Tensor;
  readonly biasGrad: Tensor;

  private readonly params: Parameter[];
  private readonly weightGradStorage: Tensor;
  /**
   * zeroGrad ran and the weight gradient has not been zeroed yet: the next backward writes it (GEMM with
   * beta 0) instead of adding to it, which saves filling it and the GEMM's read of it. Every read goes
   * through `weightGrad` (also the parameter's `grad`), which zeroes it first, so no one sees stale values.
   */
  private weightGradZeroPending = false;
  private readonly biasScratch: Tensor;
  private readonly cache: BufferCache<LinearBuffers>;
  private input: Tensor | null = null;
  /** The last forward's input in its own shape (dX is returned in it). */
  private batchShaped: Tensor | null = null;
  private output: Tensor | null = null;

  constructor(inDim: number, outDim: number, opts: LinearOptions) {
    super();
    check(Number.isInteger(inDim) && inDim >= 1, "Linear", `inDim must be a positive integer, got ${inDim}`);
    check(
      Number.isInteger(outDim) && outDim >= 1,
      "Linear",
      `outDim must be a positive integer, got ${outDim}`,
    );
    check(opts?.rng !== undefined, "Linear", "opts.rng (an Rng from @nabla/ndarray) is required");
    const init = opts.init ?? "kaiming";
    check(init === "kaiming" || init === "kaiming-input", "Linear", `unknown init "${init}"`);
    this.inDim = inDim;
    this.outDim = outDim;
    this.dtype = opts.dtype ?? "float32";
    this.computeInputGrad = opts.computeInputGrad ?? true;
    // Resident: on the WebAssembly kernel the GEMMs and the optimizer's update then use them in place.
    this.weight = residentZeros([outDim, inDim], this.dtype);
    this.bias = zeros([outDim], this.dtype);
    this.weightGradStorage = residentZeros([outDim, inDim], this.dtype);
    this.biasGrad = zeros([outDim], this.dtype);
    this.biasScratch = zeros([outDim], this.dtype);
    opts.rng.fillNormal(this.weight, 0, initStd(inDim, init));
    const layer = this;
    this.params = [
      {
        name: "weight",
        value: this.weight,
        get grad() {
          return layer.weightGrad;
        },
      },
      { name: "bias", value: this.bias, grad: this.biasGrad },
    ];
    const computeDx = this.computeInputGrad;
    this.cache = new BufferCache(([rows], dtype) => ({
      y: residentZeros([rows, outDim], dtype),
      dx: computeDx ? residentZeros([rows, inDim], dtype) : null,
    }));
  }

  /** Reads a batch of any sample shape flattened (row-major), as Flatten before it would. */
  forward(input: Tensor): Tensor {
    const x = input.shape.length > 2 ? asRows(input) : input;
    const rows = expect2d(x, "Linear.forward: input", this.inDim);
    expectDtype(x, this.dtype, "Linear.forward: input");
    const { y } = this.cache.get([rows, this.inDim], this.dtype);
    gemm(false, true, 1, x, this.weight, 0, y); // Y = X Wᵀ
    addRowVector(y, y, this.bias); // + b (broadcast over rows)
    this.input = x;
    this.batchShaped = input;
    this.output = y;
    return y;
  }

  backward(dY: Tensor): Tensor | null {
    const x = this.input;
    const y = this.output;
    if (x === null || y === null) throw new NnError("Linear.backward: called before forward");
    expectSameShape(dY, y, "Linear.backward", "dY");
    expectDtype(dY, this.dtype, "Linear.backward: dY");
    // dW += dYᵀ X; after zeroGrad, dW = dYᵀ X (the same bits: the GEMM's sums are never −0, and x + 0 = x)
    gemm(true, false, 1, dY, x, this.weightGradZeroPending ? 0 : 1, this.weightGradStorage);
    this.weightGradZeroPending = false;
    sumAxis0(this.biasScratch, dY); // db += 1ᵀ dY (column sums in float64, rounded once)
    add(this.biasGrad, this.biasGrad, this.biasScratch);
    if (!this.computeInputGrad) return null;
    const { dx } = this.cache.get([x.shape[0], this.inDim], this.dtype);
    gemm(false, false, 1, dY, this.weight, 0, dx as Tensor); // dX = dY W
    return inShapeOf(dx as Tensor, this.batchShaped as Tensor);
  }

  /** out×in, contiguous; zeroed here if zeroGrad deferred it. */
  get weightGrad(): Tensor {
    if (this.weightGradZeroPending) {
      fill(this.weightGradStorage, 0);
      this.weightGradZeroPending = false;
    }
    return this.weightGradStorage;
  }

  override parameters(): Parameter[] {
    return this.params;
  }

  override zeroGrad(): void {
    this.weightGradZeroPending = true;
    fill(this.biasGrad, 0);
  }
}
