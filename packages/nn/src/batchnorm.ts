/** Batch normalisation over the batch axis of a [batch, features] input, with PyTorch's semantics. */
import { type DType, type Tensor, zeros } from "@nabla/ndarray";
import { check, fail, NnError } from "./errors.js";
import { type Buffer, ModuleBase, type Parameter } from "./module.js";
import { BufferCache, expect2d, expectDtype, expectSameShape } from "./tensors.js";

export interface BatchNorm1dOptions {
  /** Weight of the new batch statistic in the running averages. Default 0.1. */
  momentum?: number;
  /** Added to the variance before the square root. Default 1e-5. */
  eps?: number;
  /** Learn a per-feature scale γ ("weight", starts at 1) and shift β ("bias", starts at 0). Default true. */
  affine?: boolean;
  dtype?: DType;
}

interface BatchNormBuffers {
  y: Tensor;
  dx: Tensor;
  xhat: Tensor;
}

/**
 * y = γ (x − μ) / √(σ² + eps) + β per feature. In training μ, σ² are the batch mean and the biased
 * batch variance, and the running averages move by `momentum` towards μ and the UNBIASED variance
 * (n/(n−1) σ²), as PyTorch does; `num_batches_tracked` counts training batches. In eval the running
 * averages replace the batch statistics, so the layer is a fixed affine map.
 *
 * Statistics are accumulated in float64 whatever the dtype, then stored in the layer's dtype.
 */
export class BatchNorm1d extends ModuleBase {
  readonly features: number;
  readonly momentum: number;
  readonly eps: number;
  readonly affine: boolean;
  readonly dtype: DType;
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly weightGrad: Tensor;
  readonly biasGrad: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  /** Shape [], float64: an exact integer count (see {@link Buffer}). */
  readonly numBatchesTracked: Tensor;

  private readonly params: Parameter[];
  private readonly bufferList: Buffer[];
  private readonly cache: BufferCache<BatchNormBuffers>;
  /** Per-feature 1/√(σ² + eps) of the last forward (batch or running variance). */
  private readonly invStd: Float64Array;
  private readonly mean: Float64Array;
  private readonly sumDy: Float64Array;
  private readonly sumDyXhat: Float64Array;
  private lastRows = 0;
  private lastTraining = true;
  private forwarded = false;

  constructor(features: number, opts: BatchNorm1dOptions = {}) {
    super();
    check(
      Number.isInteger(features) && features >= 1,
      "BatchNorm1d",
      `features must be a positive integer, got ${features}`,
    );
    const momentum = opts.momentum ?? 0.1;
    const eps = opts.eps ?? 1e-5;
    check(momentum >= 0 && momentum <= 1, "BatchNorm1d", `momentum must be in [0, 1], got ${momentum}`);
    check(eps > 0, "BatchNorm1d", `eps must be positive, got ${eps}`);
    this.features = features;
    this.momentum = momentum;
    this.eps = eps;
    this.affine = opts.affine ?? true;
    this.dtype = opts.dtype ?? "float32";
    this.weight = zeros([features], this.dtype);
    this.weight.data.fill(1);
    this.bias = zeros([features], this.dtype);
    this.weightGrad = zeros([features], this.dtype);
    this.biasGrad = zeros([features], this.dtype);
    this.runningMean = zeros([features], this.dtype);
    this.runningVar = zeros([features], this.dtype);
    this.runningVar.data.fill(1);
    this.numBatchesTracked = zeros([], "float64");
    this.params = this.affine
      ? [
          { name: "weight", value: this.weight, grad: this.weightGrad },
          { name: "bias", value: this.bias, grad: this.biasGrad },
        ]
      : [];
    this.bufferList = [
      { name: "running_mean", value: this.runningMean },
      { name: "running_var", value: this.runningVar },
      { name: "num_batches_tracked", value: this.numBatchesTracked, integer: true },
    ];
    this.invStd = new Float64Array(features);
    this.mean = new Float64Array(features);
    this.sumDy = new Float64Array(features);
    this.sumDyXhat = new Float64Array(features);
    this.cache = new BufferCache((shape, dtype) => ({
      y: zeros([...shape], dtype),
      dx: zeros([...shape], dtype),
      xhat: zeros([...shape], dtype),
    }));
  }

  forward(x: Tensor): Tensor {
    const rows = expect2d(x, "BatchNorm1d.forward: input", this.features);
    expectDtype(x, this.dtype, "BatchNorm1d.forward: input");
    const c = this.features;
    if (this.training && rows < 2) {
      fail("BatchNorm1d.forward", `training needs more than 1 row per feature, got shape [${x.shape}]`);
    }
    const { y, xhat } = this.cache.get([rows, c], this.dtype);
    const { data, offset } = x;
    const [s0, s1] = x.stride;
    const mean = this.mean;
    const invStd = this.invStd;
    if (this.training) {
      mean.fill(0);
      for (let i = 0; i < rows; i++) for (let j = 0; j < c; j++) mean[j] += data[offset + i * s0 + j * s1];
      for (let j = 0; j < c; j++) mean[j] /= rows;
      const sq = invStd; // holds Σ(x − μ)² until it is turned into 1/√(σ² + eps) below
      sq.fill(0);
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < c; j++) {
          const d = data[offset + i * s0 + j * s1] - mean[j];
          sq[j] += d * d;
        }
      }
      const rm = this.runningMean.data;
      const rv = this.runningVar.data;
      const m = this.momentum;
      for (let j = 0; j < c; j++) {
        const biased = sq[j] / rows;
        rm[j] = (1 - m) * rm[j] + m * mean[j];
        rv[j] = (1 - m) * rv[j] + m * (sq[j] / (rows - 1));
        invStd[j] = 1 / Math.sqrt(biased + this.eps);
      }
      this.numBatchesTracked.data[0] += 1;
    } else {
      const rm = this.runningMean.data;
      const rv = this.runningVar.data;
      for (let j = 0; j < c; j++) {
        mean[j] = rm[j];
        invStd[j] = 1 / Math.sqrt(rv[j] + this.eps);
      }
    }
    const xh = xhat.data;
    const yd = y.data;
    const g = this.weight.data;
    const b = this.bias.data;
    for (let i = 0; i < rows; i++) {
      const o = i * c;
      for (let j = 0; j < c; j++) {
        xh[o + j] = (data[offset + i * s0 + j * s1] - mean[j]) * invStd[j];
        yd[o + j] = g[j] * xh[o + j] + b[j];
      }
    }
    this.lastRows = rows;
    this.lastTraining = this.training;
    this.forwarded = true;
    return y;
  }

  /**
   * Training: dx = γ/(n√(σ²+eps)) · (n·dy − Σdy − x̂·Σ(dy·x̂)), the batch statistics being functions of x.
   * Eval: dx = γ·dy/√(running_var + eps). In both, dγ += Σ dy·x̂ and dβ += Σ dy (when affine).
   */
  backward(dY: Tensor): Tensor {
    if (!this.forwarded) throw new NnError("BatchNorm1d.backward: called before forward");
    const rows = this.lastRows;
    const c = this.features;
    const { y, dx, xhat } = this.cache.get([rows, c], this.dtype);
    expectSameShape(dY, y, "BatchNorm1d.backward", "dY");
    expectDtype(dY, this.dtype, "BatchNorm1d.backward: dY");
    const gd = dY.data;
    const go = dY.offset;
    const [s0, s1] = dY.stride;
    const xh = xhat.data;
    const sumDy = this.sumDy;
    const sumDyXhat = this.sumDyXhat;
    sumDy.fill(0);
    sumDyXhat.fill(0);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < c; j++) {
        const v = gd[go + i * s0 + j * s1];
        sumDy[j] += v;
        sumDyXhat[j] += v * xh[i * c + j];
      }
    }
    if (this.affine) {
      const wg = this.weightGrad.data;
      const bg = this.biasGrad.data;
      for (let j = 0; j < c; j++) {
        wg[j] += sumDyXhat[j];
        bg[j] += sumDy[j];
      }
    }
    const g = this.weight.data;
    const invStd = this.invStd;
    const dxd = dx.data;
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < c; j++) {
        const v = gd[go + i * s0 + j * s1];
        const k = g[j] * invStd[j];
        dxd[i * c + j] = this.lastTraining
          ? (k / rows) * (rows * v - sumDy[j] - xh[i * c + j] * sumDyXhat[j])
          : k * v;
      }
    }
    return dx;
  }

  override parameters(): Parameter[] {
    return this.params;
  }

  override buffers(): Buffer[] {
    return this.bufferList;
  }
}
