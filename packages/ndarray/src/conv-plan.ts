/**
 * A convolution's shapes, its tiling and its reusable scratch (Conv2dPlan), made once per layer and input size
 * so that the passes in conv.ts allocate nothing.
 */
import { nativeConv } from "./addon.js";
import { type ConvShape, ConvWorkspace } from "./conv-js.js";
import { fail } from "./errors.js";
import { nativeGemmThreads } from "./gemm/index.js";
import type { DType } from "./tensor.js";

/** A size per spatial axis: one number for both, or [height, width]. */
export type Conv2dPair = number | readonly [number, number];

export interface Conv2dPlanOptions {
  /** One input sample: [channels, height, width]. */
  inShape: readonly number[];
  outChannels: number;
  kernel: Conv2dPair;
  /** Default 1. */
  stride?: Conv2dPair;
  /** Zeros added on each side; default 0. */
  padding?: Conv2dPair;
  /** Spacing of the kernel taps; default 1. */
  dilation?: Conv2dPair;
}

let nativeEnabled = true;

/**
 * @internal For tests and the bench: `false` runs the JavaScript loop (calling gemm) even where native/conv.cc
 * would run; both give the same bits.
 */
export function setConvNative(enabled: boolean): void {
  nativeEnabled = enabled;
}

/**
 * A tile covers about TILE_POSITIONS output positions (one k block of the GEMMs, so a tile's weight-gradient
 * product is a single FMA chain per entry), within TILE_FLOATS of columns (512 KiB of float32, what the
 * JavaScript loop keeps for it).
 */
const TILE_POSITIONS = 256;
const TILE_FLOATS = 1 << 17;
/** Sample groups of the weight gradient (summed separately, then in order): enough to keep 2 threads busy. */
export const WEIGHT_GROUPS = 4;

function pair(
  fn: string,
  name: string,
  value: Conv2dPair | undefined,
  fallback: number,
  min: number,
): [number, number] {
  const v = value ?? fallback;
  const p: readonly number[] = typeof v === "number" ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || !p.every((d) => Number.isInteger(d) && d >= min)) {
    fail(fn, `${name} must be an integer >= ${min} or [height, width] of them, got ${JSON.stringify(value)}`);
  }
  return [p[0], p[1]];
}

/** PyTorch's output size, floor((in + 2p − d(k − 1) − 1) / s) + 1, or 0 when the kernel does not fit. */
export function conv2dOutputSize(
  input: number,
  kernel: number,
  stride = 1,
  padding = 0,
  dilation = 1,
): number {
  const span = input + 2 * padding - dilation * (kernel - 1) - 1;
  return span < 0 ? 0 : Math.floor(span / stride) + 1;
}

/**
 * The shapes of one convolution and its reusable scratch (column tile, weight-gradient partial sums), made
 * once per layer: the passes allocate nothing. Throws a one-line NdarrayError for a kernel that does not fit.
 */
export class Conv2dPlan implements ConvShape {
  readonly inChannels: number;
  readonly inHeight: number;
  readonly inWidth: number;
  readonly outChannels: number;
  readonly kernelHeight: number;
  readonly kernelWidth: number;
  readonly strideHeight: number;
  readonly strideWidth: number;
  readonly paddingHeight: number;
  readonly paddingWidth: number;
  readonly dilationHeight: number;
  readonly dilationWidth: number;
  readonly outHeight: number;
  readonly outWidth: number;
  readonly columns: number;
  readonly rowsPerTile: number;
  /** Per-call fields for the native code (layout in native/conv.cc). */
  private readonly geometry = new Int32Array(18);
  private readonly workspaces: Partial<Record<DType, ConvWorkspace>> = {};
  private transposedPlan: Conv2dPlan | null | undefined;

  constructor(opts: Conv2dPlanOptions) {
    const fn = "conv2dPlan";
    const s = opts?.inShape;
    if (!Array.isArray(s) || s.length !== 3 || !s.every((d) => Number.isInteger(d) && d >= 1)) {
      fail(fn, `inShape must be [channels, height, width] of positive integers, got ${JSON.stringify(s)}`);
    }
    if (!Number.isInteger(opts.outChannels) || opts.outChannels < 1) {
      fail(fn, `outChannels must be a positive integer, got ${opts.outChannels}`);
    }
    [this.inChannels, this.inHeight, this.inWidth] = s;
    this.outChannels = opts.outChannels;
    [this.kernelHeight, this.kernelWidth] = pair(fn, "kernel", opts.kernel, Number.NaN, 1);
    [this.strideHeight, this.strideWidth] = pair(fn, "stride", opts.stride, 1, 1);
    [this.paddingHeight, this.paddingWidth] = pair(fn, "padding", opts.padding, 0, 0);
    [this.dilationHeight, this.dilationWidth] = pair(fn, "dilation", opts.dilation, 1, 1);
    this.outHeight = conv2dOutputSize(
      s[1],
      this.kernelHeight,
      this.strideHeight,
      this.paddingHeight,
      this.dilationHeight,
    );
    this.outWidth = conv2dOutputSize(
      s[2],
      this.kernelWidth,
      this.strideWidth,
      this.paddingWidth,
      this.dilationWidth,
    );
    if (this.outHeight === 0 || this.outWidth === 0) {
      fail(
        fn,
        `kernel ${this.kernelHeight}×${this.kernelWidth} (dilation ${this.dilationHeight}×${this.dilationWidth}) ` +
          `with padding ${this.paddingHeight}×${this.paddingWidth} does not fit a ${s[1]}×${s[2]} input`,
      );
    }
    this.columns = this.inChannels * this.kernelHeight * this.kernelWidth;
    // Tiles of equal height (the last one no taller), whole output rows, at least one.
    const maxRows = Math.max(
      1,
      Math.min(
        Math.floor(TILE_POSITIONS / this.outWidth),
        Math.floor(TILE_FLOATS / (this.columns * this.outWidth)),
      ),
    );
    this.rowsPerTile = Math.ceil(this.outHeight / Math.ceil(this.outHeight / maxRows));
    this.geometry.set([
      0,
      ...s,
      this.outChannels,
      this.kernelHeight,
      this.kernelWidth,
      this.strideHeight,
      this.strideWidth,
      this.paddingHeight,
      this.paddingWidth,
      this.dilationHeight,
      this.dilationWidth,
      this.outHeight,
      this.outWidth,
      this.rowsPerTile,
    ]);
  }

  /**
   * Numbers (float32-sized) the plan's own buffers hold for one dtype at most, whatever the batch: the
   * weight-gradient partial sums (4 × out × in·kh·kw) and, for a stride-1 input gradient, the flipped weights;
   * with the JavaScript loop (no native code, float64) also the column tile, the float64 bias sums and the
   * transposed convolution's tile. The native code's per-thread buffers (a padded sample, a tile, the packed
   * weights; `nativeScratchLength`) belong to the process, shared by every plan, and are not included.
   */
  get scratchLength(): number {
    const t = this.transposed();
    return this.ownScratch() + (t === null ? 0 : this.outChannels * this.columns + t.tileLength);
  }

  /** Numbers per native thread while this plan's passes run (the largest plan's sets the process's total). */
  get nativeScratchLength(): number {
    const t = this.transposed();
    return t === null ? this.ownNative() : Math.max(this.ownNative(), t.ownNative());
  }

  private ownNative(): number {
    const padded =
      this.inChannels * (this.inHeight + 2 * this.paddingHeight) * (this.inWidth + 2 * this.paddingWidth) + 8;
    const packed = (Math.ceil(this.outChannels / 6) * 6 + 2) * this.columns;
    return (
      padded + packed + Math.max(this.tileLength, this.tilePositions * Math.ceil(this.outChannels / 16) * 16)
    );
  }

  private get tilePositions(): number {
    return Math.min(this.rowsPerTile, this.outHeight) * this.outWidth;
  }

  private get tileLength(): number {
    return this.columns * this.tilePositions;
  }

  private ownScratch(): number {
    const partials = WEIGHT_GROUPS * this.outChannels * this.columns;
    return partials + this.tileLength + 2 * this.outHeight * this.outWidth;
  }

  /**
   * @internal With stride 1 and padding at most d·(k − 1) per axis, the input gradient is itself a
   * convolution: of dy, with the weights' in and out swapped and both spatial axes reversed (flipWeights),
   * padding d·(k − 1) − p. Its plan, or null.
   */
  transposed(): Conv2dPlan | null {
    if (this.transposedPlan === undefined) {
      const ph = this.dilationHeight * (this.kernelHeight - 1) - this.paddingHeight;
      const pw = this.dilationWidth * (this.kernelWidth - 1) - this.paddingWidth;
      const ok = this.strideHeight === 1 && this.strideWidth === 1 && ph >= 0 && pw >= 0;
      this.transposedPlan = ok
        ? new Conv2dPlan({
            inShape: this.outShape,
            outChannels: this.inChannels,
            kernel: [this.kernelHeight, this.kernelWidth],
            padding: [ph, pw],
            dilation: [this.dilationHeight, this.dilationWidth],
          })
        : null;
    }
    return this.transposedPlan;
  }

  /** Output sample shape [outChannels, outHeight, outWidth]. */
  get outShape(): [number, number, number] {
    return [this.outChannels, this.outHeight, this.outWidth];
  }

  /** @internal */
  workspace(dtype: DType): ConvWorkspace {
    let ws = this.workspaces[dtype];
    if (ws === undefined) {
      ws = new ConvWorkspace(this, WEIGHT_GROUPS, dtype);
      this.workspaces[dtype] = ws;
    }
    return ws;
  }

  /**
   * @internal The geometry for a native call over n samples, or null when the GEMMs would not all run on
   * the native kernel (then the JavaScript loop, with gemm's own choice of kernel, gives the bits).
   */
  nativeGeometry(n: number, dtype: DType): Int32Array | null {
    if (!nativeEnabled || dtype !== "float32" || nativeConv() === null) return null;
    const lastRows = this.outHeight - (Math.ceil(this.outHeight / this.rowsPerTile) - 1) * this.rowsPerTile;
    const threads = nativeGemmThreads(this.outChannels * this.columns * lastRows * this.outWidth);
    if (threads === 0) return null;
    const g = this.geometry;
    g[0] = n;
    g[16] = Math.min(n, WEIGHT_GROUPS);
    g[17] = threads;
    return g;
  }
}

/** Shapes, strides and scratch of one convolution (see {@link Conv2dPlan}). */
export function conv2dPlan(opts: Conv2dPlanOptions): Conv2dPlan {
  return new Conv2dPlan(opts);
}
