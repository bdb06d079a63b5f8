/**
 * The per-channel core of batch normalisation with PyTorch's semantics, shared by BatchNorm1d ([N, C],
 * batchnorm.ts) and BatchNorm2d ([N, C, H, W], batchnorm2d.ts): options, parameters, buffers, statistics,
 * forward and backward.
 */
import { type DType, type FloatArray, type Tensor, zeros } from "@nabla/ndarray";
import { check, NnError } from "./errors.js";
import { type Buffer, ModuleBase, type Parameter } from "./module.js";
import { BufferCache } from "./tensors.js";

export interface BatchNormOptions {
  /** Weight of the new batch statistic in the running averages. Default 0.1. */
  momentum?: number;
  /** Added to the variance before the square root. Default 1e-5. */
  eps?: number;
  /** Learn a per-channel scale γ ("weight", starts at 1) and shift β ("bias", starts at 0). Default true. */
  affine?: boolean;
  dtype?: DType;
}

interface BatchNormBuffers {
  y: Tensor;
  dx: Tensor;
  xhat: Tensor;
}

/**
 * Σ d[b … b+len). Four partial sums keep the adds independent (one running sum waits on every add), and
 * round less than one long sum.
 */
function planeSum(d: FloatArray, b: number, len: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const end4 = b + (len - (len % 4));
  let i = b;
  for (; i < end4; i += 4) {
    s0 += d[i];
    s1 += d[i + 1];
    s2 += d[i + 2];
    s3 += d[i + 3];
  }
  for (const end = b + len; i < end; i++) s0 += d[i];
  return s0 + s1 + (s2 + s3);
}

/** Σ (d[i] − m)² over d[b … b+len), with the same four partial sums as {@link planeSum}. */
function planeSquares(d: FloatArray, b: number, len: number, m: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const end4 = b + (len - (len % 4));
  let i = b;
  for (; i < end4; i += 4) {
    const d0 = d[i] - m;
    const d1 = d[i + 1] - m;
    const d2 = d[i + 2] - m;
    const d3 = d[i + 3] - m;
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  for (const end = b + len; i < end; i++) {
    const d0 = d[i] - m;
    s0 += d0 * d0;
  }
  return s0 + s1 + (s2 + s3);
}

/**
 * Adds Σ dy and Σ dy·x̂ over one plane (dy from gd[src …], x̂ from xh[dst …]) to slot j of the two sums, with
 * the same four partial sums as {@link planeSum}.
 */
function addPlaneGradSums(
  gd: FloatArray,
  src: number,
  xh: FloatArray,
  dst: number,
  len: number,
  sumDy: Float64Array,
  sumDyXhat: Float64Array,
  j: number,
): void {
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let b0 = 0;
  let b1 = 0;
  let b2 = 0;
  let b3 = 0;
  let l = 0;
  for (const end4 = len - (len % 4); l < end4; l += 4) {
    const v0 = gd[src + l];
    const v1 = gd[src + l + 1];
    const v2 = gd[src + l + 2];
    const v3 = gd[src + l + 3];
    a0 += v0;
    a1 += v1;
    a2 += v2;
    a3 += v3;
    b0 += v0 * xh[dst + l];
    b1 += v1 * xh[dst + l + 1];
    b2 += v2 * xh[dst + l + 2];
    b3 += v3 * xh[dst + l + 3];
  }
  for (; l < len; l++) {
    const v = gd[src + l];
    a0 += v;
    b0 += v * xh[dst + l];
  }
  sumDy[j] += a0 + a1 + (a2 + a3);
  sumDyXhat[j] += b0 + b1 + (b2 + b3);
}

/**
 * y = γ (x − μ) / √(σ² + eps) + β per channel, over an input seen as [N, C, L]: L = 1 for BatchNorm1d,
 * H·W for BatchNorm2d, the L values of one (sample, channel) contiguous. In training μ, σ² are the mean and
 * the biased variance over the N·L values of a channel, and the running averages move by `momentum`
 * towards μ and the UNBIASED variance (n/(n−1) σ², n = N·L), as PyTorch does; `num_batches_tracked`
 * counts training batches. In eval the running averages replace the batch statistics, so the layer is a
 * fixed affine map.
 *
 * Statistics are accumulated in float64 whatever the dtype, then stored in the layer's dtype. Subclasses
 * check their input's shape and call {@link normalise} / {@link backpropagate}.
 *
 * Each pass has two loop shapes over the same formulas. L = 1 runs along rows with the channel innermost,
 * so a [N, C] input is read in memory order and BatchNorm1d keeps the bits and speed of its plain loops.
 * L > 1 runs along each contiguous plane, with per-plane partial sums in the reductions.
 */
export abstract class BatchNormBase extends ModuleBase {
  /** Channels (PyTorch's num_features). */
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
  /** Per-channel 1/√(σ² + eps) of the last forward (batch or running variance). */
  private readonly invStd: Float64Array;
  private readonly mean: Float64Array;
  private readonly sumDy: Float64Array;
  private readonly sumDyXhat: Float64Array;
  private last: BatchNormBuffers | null = null;
  private lastSamples = 0;
  private lastPlane = 0;
  private lastTraining = true;

  /** `name` and `unit` ("features", "channels") word the constructor's errors. */
  protected constructor(name: string, features: number, opts: BatchNormOptions, unit: string) {
    super();
    check(
      Number.isInteger(features) && features >= 1,
      name,
      `${unit} must be a positive integer, got ${features}`,
    );
    const momentum = opts.momentum ?? 0.1;
    const eps = opts.eps ?? 1e-5;
    check(momentum >= 0 && momentum <= 1, name, `momentum must be in [0, 1], got ${momentum}`);
    check(eps > 0, name, `eps must be positive, got ${eps}`);
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

  /**
   * The forward over `x` seen as [samples, C, plane]: channel c of sample n is the `plane` contiguous
   * values from x.data[x.offset + n·sN + c·sC]. The output (and x̂, dx) are contiguous buffers of `shape`.
   */
  protected normalise(
    x: Tensor,
    samples: number,
    plane: number,
    sN: number,
    sC: number,
    shape: readonly number[],
  ): Tensor {
    const c = this.features;
    const buffers = this.cache.get(shape, this.dtype);
    const xd = x.data;
    const xo = x.offset;
    const count = samples * plane;
    const mean = this.mean;
    const invStd = this.invStd;
    if (this.training) {
      mean.fill(0);
      for (let i = 0; i < samples; i++) {
        if (plane === 1) for (let j = 0; j < c; j++) mean[j] += xd[xo + i * sN + j * sC];
        else for (let j = 0; j < c; j++) mean[j] += planeSum(xd, xo + i * sN + j * sC, plane);
      }
      for (let j = 0; j < c; j++) mean[j] /= count;
      const sq = invStd; // holds Σ(x − μ)² until it is turned into 1/√(σ² + eps) below
      sq.fill(0);
      for (let i = 0; i < samples; i++) {
        if (plane === 1) {
          for (let j = 0; j < c; j++) {
            const d = xd[xo + i * sN + j * sC] - mean[j];
            sq[j] += d * d;
          }
        } else {
          for (let j = 0; j < c; j++) sq[j] += planeSquares(xd, xo + i * sN + j * sC, plane, mean[j]);
        }
      }
      const rm = this.runningMean.data;
      const rv = this.runningVar.data;
      const m = this.momentum;
      for (let j = 0; j < c; j++) {
        const biased = sq[j] / count;
        rm[j] = (1 - m) * rm[j] + m * mean[j];
        rv[j] = (1 - m) * rv[j] + m * (sq[j] / (count - 1));
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
    const xh = buffers.xhat.data;
    const yd = buffers.y.data;
    const g = this.weight.data;
    const b = this.bias.data;
    if (plane === 1) {
      for (let i = 0; i < samples; i++) {
        const o = i * c;
        for (let j = 0; j < c; j++) {
          xh[o + j] = (xd[xo + i * sN + j * sC] - mean[j]) * invStd[j];
          yd[o + j] = g[j] * xh[o + j] + b[j];
        }
      }
    } else {
      const round = this.dtype === "float32";
      for (let i = 0; i < samples; i++) {
        for (let j = 0; j < c; j++) {
          const src = xo + i * sN + j * sC;
          const dst = (i * c + j) * plane;
          const mj = mean[j];
          const sj = invStd[j];
          const gj = g[j];
          const bj = b[j];
          for (let l = 0; l < plane; l++) {
            const v = (xd[src + l] - mj) * sj;
            xh[dst + l] = v;
            // y from x̂ as stored (rounded to the dtype), the value backward reads; fround spares the re-read
            yd[dst + l] = gj * (round ? Math.fround(v) : v) + bj;
          }
        }
      }
    }
    this.last = buffers;
    this.lastSamples = samples;
    this.lastPlane = plane;
    this.lastTraining = this.training;
    return buffers.y;
  }

  /** The last forward's output, or an NnError naming `where` when there was none. */
  protected lastOutput(where: string): Tensor {
    if (this.last === null) throw new NnError(`${where}: called before forward`);
    return this.last.y;
  }

  /**
   * Training: dx = γ/(n√(σ²+eps)) · (n·dy − Σdy − x̂·Σ(dy·x̂)), the batch statistics being functions of x.
   * Eval: dx = γ·dy/√(running_var + eps). In both, dγ += Σ dy·x̂ and dβ += Σ dy (when affine). `dY` is laid
   * out as {@link normalise}'s x, with strides sN, sC; the caller has checked its shape and dtype.
   */
  protected backpropagate(dY: Tensor, sN: number, sC: number): Tensor {
    const { dx, xhat } = this.last as BatchNormBuffers;
    const samples = this.lastSamples;
    const plane = this.lastPlane;
    const count = samples * plane;
    const c = this.features;
    const gd = dY.data;
    const go = dY.offset;
    const xh = xhat.data;
    const sumDy = this.sumDy;
    const sumDyXhat = this.sumDyXhat;
    sumDy.fill(0);
    sumDyXhat.fill(0);
    for (let i = 0; i < samples; i++) {
      if (plane === 1) {
        for (let j = 0; j < c; j++) {
          const v = gd[go + i * sN + j * sC];
          sumDy[j] += v;
          sumDyXhat[j] += v * xh[i * c + j];
        }
      } else {
        for (let j = 0; j < c; j++) {
          addPlaneGradSums(gd, go + i * sN + j * sC, xh, (i * c + j) * plane, plane, sumDy, sumDyXhat, j);
        }
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
    const training = this.lastTraining;
    if (plane === 1) {
      for (let i = 0; i < samples; i++) {
        for (let j = 0; j < c; j++) {
          const v = gd[go + i * sN + j * sC];
          const k = g[j] * invStd[j];
          dxd[i * c + j] = training
            ? (k / count) * (count * v - sumDy[j] - xh[i * c + j] * sumDyXhat[j])
            : k * v;
        }
      }
    } else {
      for (let i = 0; i < samples; i++) {
        for (let j = 0; j < c; j++) {
          const src = go + i * sN + j * sC;
          const dst = (i * c + j) * plane;
          const k = g[j] * invStd[j];
          if (training) {
            const kn = k / count;
            const sd = sumDy[j];
            const sdx = sumDyXhat[j];
            for (let l = 0; l < plane; l++)
              dxd[dst + l] = kn * (count * gd[src + l] - sd - xh[dst + l] * sdx);
          } else {
            for (let l = 0; l < plane; l++) dxd[dst + l] = k * gd[src + l];
          }
        }
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
