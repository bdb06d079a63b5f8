/** 2-D convolution over NCHW batches with PyTorch's Conv2d semantics, names and default initialisation. */
import {
  type Conv2dPair,
  type Conv2dPlan,
  conv2dBackwardInput,
  conv2dBackwardWeight,
  conv2dForward,
  conv2dPlan,
  copyInto,
  type DType,
  fill,
  isContiguous,
  type Rng,
  residentZeros,
  type Tensor,
  zeros,
} from "@nabla/ndarray";
import { check, fail, NnError } from "./errors.js";
import { ModuleBase, type Parameter } from "./module.js";
import { BufferCache, expectBatch, expectDtype, expectSameShape } from "./tensors.js";

export interface Conv2dOptions {
  /** Kernel height and width: one number for both, or [kh, kw]. */
  kernelSize: Conv2dPair;
  /** Default 1. */
  stride?: Conv2dPair;
  /** Zeros added on each side of the input; default 0. */
  padding?: Conv2dPair;
  /** Spacing of the kernel taps; default 1. */
  dilation?: Conv2dPair;
  /** Whether the layer has a bias (PyTorch's `bias=True`); default true. */
  bias?: boolean;
  /** The init stream: weight then bias are filled row-major with `rng.fillUniform(t, −1/√fan_in, 1/√fan_in)`. */
  rng: Rng;
  /** Storage type of parameters and buffers; inputs must match. Default "float32". */
  dtype?: DType;
  /** When false, `backward` skips dX and returns null (for a first layer). Default true. */
  computeInputGrad?: boolean;
}

/** PyTorch's default bound 1/√fan_in, fan_in = in·kh·kw (kaiming_uniform_(a=√5) for the weight, and the bias's). */
export function conv2dInitBound(inChannels: number, kernelHeight: number, kernelWidth: number): number {
  return 1 / Math.sqrt(inChannels * kernelHeight * kernelWidth);
}

function pairOf(value: Conv2dPair | undefined, fallback: number): [number, number] {
  const v = value ?? fallback;
  return typeof v === "number" ? [v, v] : [v[0], v[1]];
}

interface Conv2dBuffers {
  y: Tensor;
  dx: Tensor | null;
}

/**
 * y = conv2d(x, weight) + bias for x [N, in, H, W] (any H, W the kernel fits), weight [out, in, kh, kw], bias
 * [out]; im2col + GEMM in @nabla/ndarray, one plan (shapes and scratch) per input size.
 */
export class Conv2d extends ModuleBase {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly dtype: DType;
  readonly computeInputGrad: boolean;
  /** [out, in, kh, kw], contiguous. */
  readonly weight: Tensor;
  /** [out], contiguous; null without a bias. */
  readonly bias: Tensor | null;

  private readonly params: Parameter[];
  private readonly weightGradStorage: Tensor;
  private readonly biasGradStorage: Tensor | null;
  /**
   * zeroGrad ran and the gradients have not been written since: the next backward writes them (beta 0)
   * instead of adding to zeros. Every read goes through the getters, which zero them first.
   */
  private gradZeroPending = false;
  private readonly plans: BufferCache<Conv2dPlan>;
  private readonly cache: BufferCache<Conv2dBuffers>;
  /** Contiguous copies of strided inputs and of strided output gradients (the passes read NCHW in place). */
  private readonly inputCopies = new BufferCache((shape, dtype) => residentZeros([...shape], dtype));
  private readonly gradCopies = new BufferCache((shape, dtype) => residentZeros([...shape], dtype));
  private input: Tensor | null = null;
  private output: Tensor | null = null;
  private plan: Conv2dPlan | null = null;

  constructor(inChannels: number, outChannels: number, opts: Conv2dOptions) {
    super();
    const positive = (v: number) => Number.isInteger(v) && v >= 1;
    check(positive(inChannels), "Conv2d", `inChannels must be a positive integer, got ${inChannels}`);
    check(positive(outChannels), "Conv2d", `outChannels must be a positive integer, got ${outChannels}`);
    check(opts?.rng !== undefined, "Conv2d", "opts.rng (an Rng from @nabla/ndarray) is required");
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = pairOf(opts.kernelSize, Number.NaN);
    this.stride = pairOf(opts.stride, 1);
    this.padding = pairOf(opts.padding, 0);
    this.dilation = pairOf(opts.dilation, 1);
    const pairs = { kernelSize: this.kernelSize, stride: this.stride, dilation: this.dilation };
    for (const [name, p] of Object.entries(pairs)) {
      check(p.every(positive), "Conv2d", `${name} must be a positive integer or [h, w] of them, got ${p}`);
    }
    check(
      this.padding.every((d) => Number.isInteger(d) && d >= 0),
      "Conv2d",
      `padding must be a non-negative integer or [h, w] of them, got ${this.padding}`,
    );
    this.dtype = opts.dtype ?? "float32";
    this.computeInputGrad = opts.computeInputGrad ?? true;
    const [kh, kw] = this.kernelSize;
    const hasBias = opts.bias ?? true;
    // Resident: on the WebAssembly kernel the tile GEMMs and the optimizer's update use them in place.
    this.weight = residentZeros([outChannels, inChannels, kh, kw], this.dtype);
    this.weightGradStorage = residentZeros([outChannels, inChannels, kh, kw], this.dtype);
    this.bias = hasBias ? zeros([outChannels], this.dtype) : null;
    this.biasGradStorage = hasBias ? zeros([outChannels], this.dtype) : null;
    const bound = conv2dInitBound(inChannels, kh, kw);
    opts.rng.fillUniform(this.weight, -bound, bound);
    if (this.bias !== null) opts.rng.fillUniform(this.bias, -bound, bound);
    const layer = this;
    this.params = [
      {
        name: "weight",
        value: this.weight,
        get grad() {
          return layer.weightGrad;
        },
      },
    ];
    if (this.bias !== null) {
      this.params.push({
        name: "bias",
        value: this.bias,
        get grad() {
          return layer.biasGrad as Tensor;
        },
      });
    }
    this.plans = new BufferCache(([, h, w]) =>
      conv2dPlan({
        inShape: [inChannels, h, w],
        outChannels,
        kernel: this.kernelSize,
        stride: this.stride,
        padding: this.padding,
        dilation: this.dilation,
      }),
    );
    const computeDx = this.computeInputGrad;
    this.cache = new BufferCache(([n, c, h, w], dtype) => {
      const plan = this.plans.get([c, h, w], dtype);
      return {
        y: residentZeros([n, ...plan.outShape], dtype),
        dx: computeDx ? residentZeros([n, c, h, w], dtype) : null,
      };
    });
  }

  /**
   * The plan for an input sample [in, h, w], with a one-line NnError when the kernel does not fit it; the last
   * one is kept, so a steady batch shape looks nothing up.
   */
  private planFor(x: Tensor, where: string): Conv2dPlan {
    const h = x.shape[2];
    const w = x.shape[3];
    const last = this.plan;
    if (last !== null && last.inHeight === h && last.inWidth === w) return last;
    try {
      return this.plans.get([this.inChannels, h, w], this.dtype);
    } catch (err) {
      return fail(where, (err as Error).message.replace(/^@nabla\/ndarray conv2dPlan: /, ""));
    }
  }

  forward(x: Tensor): Tensor {
    const where = "Conv2d.forward: input";
    expectBatch(x, where);
    if (x.shape.length !== 4 || x.shape[1] !== this.inChannels) {
      fail(where, `expected [N, ${this.inChannels}, height, width], got [${x.shape}]`);
    }
    expectDtype(x, this.dtype, where);
    const plan = this.planFor(x, where);
    const { y } = this.cache.get(x.shape, this.dtype);
    const input = this.contiguous(x, this.inputCopies);
    conv2dForward(plan, input, this.weight, this.bias, y);
    this.input = input;
    this.output = y;
    this.plan = plan;
    return y;
  }

  backward(dY: Tensor): Tensor | null {
    const x = this.input;
    const y = this.output;
    const plan = this.plan;
    if (x === null || y === null || plan === null)
      throw new NnError("Conv2d.backward: called before forward");
    expectSameShape(dY, y, "Conv2d.backward", "dY");
    expectDtype(dY, this.dtype, "Conv2d.backward: dY");
    const g = this.contiguous(dY, this.gradCopies);
    // After zeroGrad, dW = Σ dY·colsᵀ is written rather than added to zeros (the same bits: x + 0 = x).
    const beta = this.gradZeroPending ? 0 : 1;
    conv2dBackwardWeight(plan, x, g, this.weightGradStorage, this.biasGradStorage, beta);
    this.gradZeroPending = false;
    if (!this.computeInputGrad) return null;
    const { dx } = this.cache.get(x.shape, this.dtype);
    return conv2dBackwardInput(plan, g, this.weight, dx as Tensor, 0);
  }

  private contiguous(t: Tensor, copies: BufferCache<Tensor>): Tensor {
    return isContiguous(t) ? t : copyInto(copies.get(t.shape, this.dtype), t);
  }

  private settleGrads(): void {
    if (!this.gradZeroPending) return;
    fill(this.weightGradStorage, 0);
    if (this.biasGradStorage !== null) fill(this.biasGradStorage, 0);
    this.gradZeroPending = false;
  }

  /** [out, in, kh, kw], contiguous; zeroed here if zeroGrad deferred it. */
  get weightGrad(): Tensor {
    this.settleGrads();
    return this.weightGradStorage;
  }

  /** [out], or null without a bias; zeroed here if zeroGrad deferred it. */
  get biasGrad(): Tensor | null {
    this.settleGrads();
    return this.biasGradStorage;
  }

  override parameters(): Parameter[] {
    return this.params;
  }

  override zeroGrad(): void {
    this.gradZeroPending = true;
  }
}
