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
  /** x̂ as forward computed it, for L = 1 only: L > 1 recomputes x̂ from the input in backward. */
  xhat: Tensor | null;
}

/*
 * The L > 1 (BatchNorm2d) kernels: plain loops over one contiguous plane, unrolled by four with two pairs of
 * partial sums (one running sum would wait on every add; more pairs spill registers), called once per
 * (sample, channel) plane. Index sums are written `(p + q) | 0`: offsets into a typed array are far below
 * 2³¹, and the `| 0` tells the JIT so, sparing an overflow check on every index.
 *
 * Each kernel comes in a Float32Array and a Float64Array version, so every call site sees one array type
 * (a loop over two kinds of typed array runs half again as long), and so that each dtype can have its own
 * form of the per-element formula. float64 uses the centred forms, y = (x − μ)·k + β and dx = a·dy −
 * s·(x − μ) − c, exact to a few float64 ulps of the result. float32 folds μ into the constants, y = x·k +
 * (β − μ·k) and dx = a·dy − s·x + (s·μ − c): one operation fewer per element, evaluated in float64, whose
 * cancellation when |μ| ≫ σ costs about |μ|/σ float64 ulps, invisible after rounding to float32 unless
 * |μ|/σ > 10⁸.
 */

/** Σ d[b … b+len) in float64, with four partial sums (the shift of {@link BatchNormBase.planeStatistics}). */
function planeSum(d: FloatArray, b: number, len: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const end4 = (b + len - (len % 4)) | 0;
  let i = b | 0;
  for (; i < end4; i = (i + 4) | 0) {
    s0 += d[i];
    s1 += d[(i + 1) | 0];
    s2 += d[(i + 2) | 0];
    s3 += d[(i + 3) | 0];
  }
  for (const end = b + len; i < end; i++) s0 += d[i];
  return s0 + s1 + (s2 + s3);
}

/** Adds Σ (d − k) and Σ (d − k)² over d[b … b+len) to slot j of `sum` and `squares`, in float64. */
function shiftedSums32(
  d: Float32Array,
  b: number,
  len: number,
  k: number,
  sum: Float64Array,
  squares: Float64Array,
  j: number,
): void {
  let a0 = 0;
  let a1 = 0;
  let q0 = 0;
  let q1 = 0;
  const end4 = (b + len - (len % 4)) | 0;
  let i = b | 0;
  for (; i < end4; i = (i + 4) | 0) {
    const d0 = d[i] - k;
    const d1 = d[(i + 1) | 0] - k;
    const d2 = d[(i + 2) | 0] - k;
    const d3 = d[(i + 3) | 0] - k;
    a0 += d0 + d1;
    a1 += d2 + d3;
    q0 += d0 * d0 + d1 * d1;
    q1 += d2 * d2 + d3 * d3;
  }
  for (const end = b + len; i < end; i++) {
    const d0 = d[i] - k;
    a0 += d0;
    q0 += d0 * d0;
  }
  sum[j] += a0 + a1;
  squares[j] += q0 + q1;
}

/** {@link shiftedSums32} over a Float64Array. */
function shiftedSums64(
  d: Float64Array,
  b: number,
  len: number,
  k: number,
  sum: Float64Array,
  squares: Float64Array,
  j: number,
): void {
  let a0 = 0;
  let a1 = 0;
  let q0 = 0;
  let q1 = 0;
  const end4 = (b + len - (len % 4)) | 0;
  let i = b | 0;
  for (; i < end4; i = (i + 4) | 0) {
    const d0 = d[i] - k;
    const d1 = d[(i + 1) | 0] - k;
    const d2 = d[(i + 2) | 0] - k;
    const d3 = d[(i + 3) | 0] - k;
    a0 += d0 + d1;
    a1 += d2 + d3;
    q0 += d0 * d0 + d1 * d1;
    q1 += d2 * d2 + d3 * d3;
  }
  for (const end = b + len; i < end; i++) {
    const d0 = d[i] - k;
    a0 += d0;
    q0 += d0 * d0;
  }
  sum[j] += a0 + a1;
  squares[j] += q0 + q1;
}

/** y[yo + l] = x[xo + l]·k + c for l < len: the float32 output, k = γ/√(σ² + eps), c = β − μ·k. */
function affine32(
  y: Float32Array,
  yo: number,
  x: Float32Array,
  xo: number,
  len: number,
  k: number,
  c: number,
): void {
  const d = (xo - yo) | 0;
  const end4 = (yo + len - (len % 4)) | 0;
  let i = yo | 0;
  for (; i < end4; i = (i + 4) | 0) {
    const p = (i + d) | 0;
    y[i] = x[p] * k + c;
    y[(i + 1) | 0] = x[(p + 1) | 0] * k + c;
    y[(i + 2) | 0] = x[(p + 2) | 0] * k + c;
    y[(i + 3) | 0] = x[(p + 3) | 0] * k + c;
  }
  for (const end = yo + len; i < end; i++) y[i] = x[i + d] * k + c;
}

/** y[yo + l] = (x[xo + l] − m)·k + b for l < len: the float64 output. */
function affine64(
  y: Float64Array,
  yo: number,
  x: Float64Array,
  xo: number,
  len: number,
  m: number,
  k: number,
  b: number,
): void {
  const d = (xo - yo) | 0;
  const end4 = (yo + len - (len % 4)) | 0;
  let i = yo | 0;
  for (; i < end4; i = (i + 4) | 0) {
    const p = (i + d) | 0;
    y[i] = (x[p] - m) * k + b;
    y[(i + 1) | 0] = (x[(p + 1) | 0] - m) * k + b;
    y[(i + 2) | 0] = (x[(p + 2) | 0] - m) * k + b;
    y[(i + 3) | 0] = (x[(p + 3) | 0] - m) * k + b;
  }
  for (const end = yo + len; i < end; i++) y[i] = (x[i + d] - m) * k + b;
}

/**
 * Adds Σ dy and Σ dy·(x − m) over one plane (dy from g[go …], x from x[xo …]) to slot j of the two sums, in
 * float64: x̂ = (x − m)/σ is recomputed from the input rather than stored by forward.
 */
function gradSums32(
  g: Float32Array,
  go: number,
  x: Float32Array,
  xo: number,
  len: number,
  m: number,
  sumDy: Float64Array,
  sumDyXc: Float64Array,
  j: number,
): void {
  let a0 = 0;
  let a1 = 0;
  let b0 = 0;
  let b1 = 0;
  const d = (xo - go) | 0;
  const end4 = (go + len - (len % 4)) | 0;
  let i = go | 0;
  for (; i < end4; i = (i + 4) | 0) {
    const p = (i + d) | 0;
    const v0 = g[i];
    const v1 = g[(i + 1) | 0];
    const v2 = g[(i + 2) | 0];
    const v3 = g[(i + 3) | 0];
    a0 += v0 + v1;
    a1 += v2 + v3;
    b0 += v0 * (x[p] - m) + v1 * (x[(p + 1) | 0] - m);
    b1 += v2 * (x[(p + 2) | 0] - m) + v3 * (x[(p + 3) | 0] - m);
  }
  for (const end = go + len; i < end; i++) {
    const v = g[i];
    a0 += v;
    b0 += v * (x[i + d] - m);
  }
  sumDy[j] += a0 + a1;
  sumDyXc[j] += b0 + b1;
}

/** {@link gradSums32} over Float64Arrays. */
function gradSums64(
  g: Float64Array,
  go: number,
  x: Float64Array,
  xo: number,
  len: number,
  m: number,
  sumDy: Float64Array,
  sumDyXc: Float64Array,
  j: number,
): void {
  let a0 = 0;
  let a1 = 0;
  let b0 = 0;
  let b1 = 0;
  const d = (xo - go) | 0;
  const end4 = (go + len - (len % 4)) | 0;
  let i = go | 0;
  for (; i < end4; i = (i + 4) | 0) {
    const p = (i + d) | 0;
    const v0 = g[i];
    const v1 = g[(i + 1) | 0];
    const v2 = g[(i + 2) | 0];
    const v3 = g[(i + 3) | 0];
    a0 += v0 + v1;
    a1 += v2 + v3;
    b0 += v0 * (x[p] - m) + v1 * (x[(p + 1) | 0] - m);
    b1 += v2 * (x[(p + 2) | 0] - m) + v3 * (x[(p + 3) | 0] - m);
  }
  for (const end = go + len; i < end; i++) {
    const v = g[i];
    a0 += v;
    b0 += v * (x[i + d] - m);
  }
  sumDy[j] += a0 + a1;
  sumDyXc[j] += b0 + b1;
}

/** dx[o + l] = a·dy − s·x + t over one float32 plane, dy from g[go …] and x from x[xo …] (t = s·μ − c). */
function inputGrad32(
  dx: Float32Array,
  o: number,
  g: Float32Array,
  go: number,
  x: Float32Array,
  xo: number,
  len: number,
  a: number,
  s: number,
  t: number,
): void {
  const dg = (go - o) | 0;
  const dxo = (xo - o) | 0;
  const end4 = (o + len - (len % 4)) | 0;
  let i = o | 0;
  for (; i < end4; i = (i + 4) | 0) {
    const p = (i + dg) | 0;
    const q = (i + dxo) | 0;
    dx[i] = a * g[p] - s * x[q] + t;
    dx[(i + 1) | 0] = a * g[(p + 1) | 0] - s * x[(q + 1) | 0] + t;
    dx[(i + 2) | 0] = a * g[(p + 2) | 0] - s * x[(q + 2) | 0] + t;
    dx[(i + 3) | 0] = a * g[(p + 3) | 0] - s * x[(q + 3) | 0] + t;
  }
  for (const end = o + len; i < end; i++) dx[i] = a * g[i + dg] - s * x[i + dxo] + t;
}

/** dx[o + l] = a·dy − s·(x − m) − c over one float64 plane, dy from g[go …] and x from x[xo …]. */
function inputGrad64(
  dx: Float64Array,
  o: number,
  g: Float64Array,
  go: number,
  x: Float64Array,
  xo: number,
  len: number,
  m: number,
  a: number,
  s: number,
  c: number,
): void {
  const dg = (go - o) | 0;
  const dxo = (xo - o) | 0;
  const end4 = (o + len - (len % 4)) | 0;
  let i = o | 0;
  for (; i < end4; i = (i + 4) | 0) {
    const p = (i + dg) | 0;
    const q = (i + dxo) | 0;
    dx[i] = a * g[p] - s * (x[q] - m) - c;
    dx[(i + 1) | 0] = a * g[(p + 1) | 0] - s * (x[(q + 1) | 0] - m) - c;
    dx[(i + 2) | 0] = a * g[(p + 2) | 0] - s * (x[(q + 2) | 0] - m) - c;
    dx[(i + 3) | 0] = a * g[(p + 3) | 0] - s * (x[(q + 3) | 0] - m) - c;
  }
  for (const end = o + len; i < end; i++) dx[i] = a * g[i + dg] - s * (x[i + dxo] - m) - c;
}

/** dx[o + l] = k·g[go + l] over one plane (eval: the statistics are constants). */
function scale32(dx: Float32Array, o: number, g: Float32Array, go: number, len: number, k: number): void {
  const dg = (go - o) | 0;
  const end4 = (o + len - (len % 4)) | 0;
  let i = o | 0;
  for (; i < end4; i = (i + 4) | 0) {
    const p = (i + dg) | 0;
    dx[i] = k * g[p];
    dx[(i + 1) | 0] = k * g[(p + 1) | 0];
    dx[(i + 2) | 0] = k * g[(p + 2) | 0];
    dx[(i + 3) | 0] = k * g[(p + 3) | 0];
  }
  for (const end = o + len; i < end; i++) dx[i] = k * g[i + dg];
}

/** {@link scale32} over Float64Arrays. */
function scale64(dx: Float64Array, o: number, g: Float64Array, go: number, len: number, k: number): void {
  const dg = (go - o) | 0;
  const end4 = (o + len - (len % 4)) | 0;
  let i = o | 0;
  for (; i < end4; i = (i + 4) | 0) {
    const p = (i + dg) | 0;
    dx[i] = k * g[p];
    dx[(i + 1) | 0] = k * g[(p + 1) | 0];
    dx[(i + 2) | 0] = k * g[(p + 2) | 0];
    dx[(i + 3) | 0] = k * g[(p + 3) | 0];
  }
  for (const end = o + len; i < end; i++) dx[i] = k * g[i + dg];
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
 * so a [N, C] input is read in memory order and BatchNorm1d keeps the bits and speed of its plain loops
 * (and its stored x̂). L > 1 runs tight loops along each contiguous plane, with per-plane float64 partial
 * sums in the reductions: forward reads x twice (both statistics in one pass, then y), keeps a reference
 * to x instead of writing x̂, and backward reads dy and x twice (Σdy and Σdy·x̂, then dx).
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
  /** L > 1: the last forward's input (read again by backward, as the Module contract allows) and its layout. */
  private lastInput: FloatArray | null = null;
  private lastOffset = 0;
  private lastSN = 0;
  private lastSC = 0;
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
    this.cache = new BufferCache((shape, dtype) => {
      let plane = 1;
      for (let d = 2; d < shape.length; d++) plane *= shape[d];
      return {
        y: zeros([...shape], dtype),
        dx: zeros([...shape], dtype),
        xhat: plane === 1 ? zeros([...shape], dtype) : null,
      };
    });
  }

  /**
   * The forward over `x` seen as [samples, C, plane]: channel c of sample n is the `plane` contiguous
   * values from x.data[x.offset + n·sN + c·sC]. The output (and dx, and for plane = 1 x̂) are contiguous
   * buffers of `shape`. For plane > 1 backward reads `x` again, so the caller must leave it unchanged until
   * then, as the Module contract asks.
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
      const sq = invStd; // holds Σ(x − μ)² until it is turned into 1/√(σ² + eps) below
      if (plane === 1) {
        mean.fill(0);
        for (let i = 0; i < samples; i++) {
          for (let j = 0; j < c; j++) mean[j] += xd[xo + i * sN + j * sC];
        }
        for (let j = 0; j < c; j++) mean[j] /= count;
        sq.fill(0);
        for (let i = 0; i < samples; i++) {
          for (let j = 0; j < c; j++) {
            const d = xd[xo + i * sN + j * sC] - mean[j];
            sq[j] += d * d;
          }
        }
      } else {
        this.planeStatistics(xd, xo, samples, plane, sN, sC);
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
    const yd = buffers.y.data;
    const g = this.weight.data;
    const b = this.bias.data;
    if (plane === 1) {
      const xh = (buffers.xhat as Tensor).data;
      for (let i = 0; i < samples; i++) {
        const o = i * c;
        for (let j = 0; j < c; j++) {
          xh[o + j] = (xd[xo + i * sN + j * sC] - mean[j]) * invStd[j];
          yd[o + j] = g[j] * xh[o + j] + b[j];
        }
      }
      this.lastInput = null;
    } else {
      if (xd instanceof Float32Array) {
        const y32 = yd as Float32Array;
        for (let i = 0; i < samples; i++) {
          for (let j = 0; j < c; j++) {
            const k = g[j] * invStd[j];
            affine32(y32, (i * c + j) * plane, xd, xo + i * sN + j * sC, plane, k, b[j] - mean[j] * k);
          }
        }
      } else {
        const y64 = yd as Float64Array;
        for (let i = 0; i < samples; i++) {
          for (let j = 0; j < c; j++) {
            affine64(
              y64,
              (i * c + j) * plane,
              xd,
              xo + i * sN + j * sC,
              plane,
              mean[j],
              g[j] * invStd[j],
              b[j],
            );
          }
        }
      }
      this.lastInput = xd;
      this.lastOffset = xo;
      this.lastSN = sN;
      this.lastSC = sC;
    }
    this.last = buffers;
    this.lastSamples = samples;
    this.lastPlane = plane;
    this.lastTraining = this.training;
    return buffers.y;
  }

  /**
   * L > 1 training statistics: this.mean ← μ and this.invStd ← Σ(x − μ)² per channel, from one read of x.
   * Each channel's values are taken about a shift k, the mean of its first plane: Σ(x − k) and Σ(x − k)²
   * are summed in float64 (per plane, then over planes), and μ = k + Σ(x − k)/n, Σ(x − μ)² = Σ(x − k)² −
   * (Σ(x − k))²/n. The subtraction loses about log₁₀(1 + (μ − k)²/σ²) of float64's 16 digits, and with k a
   * plane's mean (μ − k)² is at most N·σ² (a single plane cannot stray further from the mean of all N), so
   * the variance keeps over 13 digits even then, far beyond float32's 7.
   */
  private planeStatistics(
    xd: FloatArray,
    xo: number,
    samples: number,
    plane: number,
    sN: number,
    sC: number,
  ): void {
    const c = this.features;
    const count = samples * plane;
    const mean = this.mean;
    const sq = this.invStd;
    // the shifted sums go to sumDy / sumDyXhat, free until backward
    const shiftedSum = this.sumDy;
    const shiftedSquares = this.sumDyXhat;
    shiftedSum.fill(0);
    shiftedSquares.fill(0);
    for (let j = 0; j < c; j++) mean[j] = planeSum(xd, xo + j * sC, plane) / plane;
    if (xd instanceof Float32Array) {
      for (let i = 0; i < samples; i++) {
        for (let j = 0; j < c; j++) {
          shiftedSums32(xd, xo + i * sN + j * sC, plane, mean[j], shiftedSum, shiftedSquares, j);
        }
      }
    } else {
      for (let i = 0; i < samples; i++) {
        for (let j = 0; j < c; j++) {
          shiftedSums64(xd, xo + i * sN + j * sC, plane, mean[j], shiftedSum, shiftedSquares, j);
        }
      }
    }
    for (let j = 0; j < c; j++) {
      const s1 = shiftedSum[j];
      const shift = s1 / count;
      mean[j] += shift;
      sq[j] = Math.max(0, shiftedSquares[j] - s1 * shift);
    }
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
    if (this.lastPlane !== 1) return this.backpropagatePlanes(dY, sN, sC, dx);
    const samples = this.lastSamples;
    const count = samples;
    const c = this.features;
    const gd = dY.data;
    const go = dY.offset;
    const xh = (xhat as Tensor).data;
    const sumDy = this.sumDy;
    const sumDyXhat = this.sumDyXhat;
    sumDy.fill(0);
    sumDyXhat.fill(0);
    for (let i = 0; i < samples; i++) {
      for (let j = 0; j < c; j++) {
        const v = gd[go + i * sN + j * sC];
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
    const training = this.lastTraining;
    for (let i = 0; i < samples; i++) {
      for (let j = 0; j < c; j++) {
        const v = gd[go + i * sN + j * sC];
        const k = g[j] * invStd[j];
        dxd[i * c + j] = training
          ? (k / count) * (count * v - sumDy[j] - xh[i * c + j] * sumDyXhat[j])
          : k * v;
      }
    }
    return dx;
  }

  /**
   * {@link backpropagate} for L > 1, x̂ = (x − μ)·invStd recomputed from the kept input: Σdy and Σdy·(x − μ)
   * in one read of dy and x, then in training dx = k·dy − s·(x − μ) − c with k = γ·invStd, s = k·invStd·
   * Σ(dy·x̂)/n and c = k·Σdy/n, the same formula with its per-channel constants gathered.
   */
  private backpropagatePlanes(dY: Tensor, sN: number, sC: number, dx: Tensor): Tensor {
    const samples = this.lastSamples;
    const plane = this.lastPlane;
    const count = samples * plane;
    const c = this.features;
    const gd = dY.data;
    const go = dY.offset;
    const xd = this.lastInput as FloatArray;
    const xo = this.lastOffset;
    const xN = this.lastSN;
    const xC = this.lastSC;
    const mean = this.mean;
    const invStd = this.invStd;
    const sumDy = this.sumDy;
    const sumDyXhat = this.sumDyXhat;
    const training = this.lastTraining;
    const f32 = gd instanceof Float32Array;
    if (training || this.affine) {
      sumDy.fill(0);
      sumDyXhat.fill(0); // Σdy·(x − μ), scaled to Σdy·x̂ below
      if (f32) {
        const g32 = gd as Float32Array;
        const x32 = xd as Float32Array;
        for (let i = 0; i < samples; i++) {
          for (let j = 0; j < c; j++) {
            gradSums32(
              g32,
              go + i * sN + j * sC,
              x32,
              xo + i * xN + j * xC,
              plane,
              mean[j],
              sumDy,
              sumDyXhat,
              j,
            );
          }
        }
      } else {
        const g64 = gd as Float64Array;
        const x64 = xd as Float64Array;
        for (let i = 0; i < samples; i++) {
          for (let j = 0; j < c; j++) {
            gradSums64(
              g64,
              go + i * sN + j * sC,
              x64,
              xo + i * xN + j * xC,
              plane,
              mean[j],
              sumDy,
              sumDyXhat,
              j,
            );
          }
        }
      }
      for (let j = 0; j < c; j++) sumDyXhat[j] *= invStd[j];
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
    if (training) {
      // the sums become the per-channel constants s (in sumDyXhat) and c (in sumDy) of dx
      for (let j = 0; j < c; j++) {
        const kn = (g[j] * invStd[j]) / count;
        sumDyXhat[j] = kn * sumDyXhat[j] * invStd[j];
        sumDy[j] = kn * sumDy[j];
      }
    }
    if (f32) {
      const d32 = dx.data as Float32Array;
      const g32 = gd as Float32Array;
      const x32 = xd as Float32Array;
      for (let i = 0; i < samples; i++) {
        for (let j = 0; j < c; j++) {
          const o = (i * c + j) * plane;
          const src = go + i * sN + j * sC;
          const k = g[j] * invStd[j];
          if (training) {
            const s = sumDyXhat[j];
            inputGrad32(d32, o, g32, src, x32, xo + i * xN + j * xC, plane, k, s, s * mean[j] - sumDy[j]);
          } else {
            scale32(d32, o, g32, src, plane, k);
          }
        }
      }
    } else {
      const d64 = dx.data as Float64Array;
      const g64 = gd as Float64Array;
      const x64 = xd as Float64Array;
      for (let i = 0; i < samples; i++) {
        for (let j = 0; j < c; j++) {
          const o = (i * c + j) * plane;
          const src = go + i * sN + j * sC;
          const k = g[j] * invStd[j];
          if (training) {
            inputGrad64(
              d64,
              o,
              g64,
              src,
              x64,
              xo + i * xN + j * xC,
              plane,
              mean[j],
              k,
              sumDyXhat[j],
              sumDy[j],
            );
          } else {
            scale64(d64, o, g64, src, plane, k);
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
