/**
 * 2-D pooling over [N, C, H, W] batches with PyTorch's semantics: window geometry (ceil_mode false, dilation
 * 1), the plumbing every pooling layer shares (shape checks, buffers, contiguity), and nn.MaxPool2d. The
 * average pools, which share it, are in avg-pooling.ts.
 */
import {
  contiguous,
  type DType,
  type FloatArray,
  isContiguous,
  residentZeros,
  type Tensor,
} from "@nabla/ndarray";
import { check, fail, NnError } from "./errors.js";
import { ModuleBase } from "./module.js";
import { BufferCache, dtypeOf, expectBatch, expectDtype, expectSameShape } from "./tensors.js";

/** One size for both spatial axes, or [height, width] (PyTorch's int or tuple). */
export type Size2 = number | readonly [number, number];

export interface Pool2dOptions {
  /** Step between windows (default: the kernel, so the windows tile the input). */
  stride?: Size2;
  /** Implicit border on each side (default 0); at most half the kernel, as PyTorch requires. */
  padding?: Size2;
}

/** A window normalised per axis: kernel, stride and padding for height (h) and width (w). */
export interface PoolWindow {
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
}

/** [height, width] of a Size2. */
export function size2(v: Size2): [number, number] {
  return typeof v === "number" ? [v, v] : [v[0], v[1]];
}

/** Validates kernel, stride and padding (PyTorch's rules) and normalises them per axis. */
export function poolWindow(where: string, kernel: Size2, opts: Pool2dOptions = {}): PoolWindow {
  const ok = (v: unknown, min: number) =>
    (typeof v === "number" && Number.isInteger(v) && v >= min) ||
    (Array.isArray(v) && v.length === 2 && v.every((d) => Number.isInteger(d) && d >= min));
  check(ok(kernel, 1), where, `kernel must be a positive integer or a pair of them, got ${String(kernel)}`);
  const stride = opts.stride ?? kernel;
  const padding = opts.padding ?? 0;
  check(ok(stride, 1), where, `stride must be a positive integer or a pair of them, got ${String(stride)}`);
  check(ok(padding, 0), where, `padding must be a non-negative integer or a pair, got ${String(padding)}`);
  const [kh, kw] = size2(kernel);
  const [sh, sw] = size2(stride);
  const [ph, pw] = size2(padding);
  // PyTorch's rule; it also guarantees every window overlaps the input, so no output is all padding.
  check(
    2 * ph <= kh && 2 * pw <= kw,
    where,
    `padding must be at most half the kernel, got ${padding} for ${kernel}`,
  );
  return { kh, kw, sh, sw, ph, pw };
}

/** Outputs along one axis: floor((size + 2·padding − kernel)/stride) + 1, or 0 when the window does not fit. */
export function pooledSize(size: number, kernel: number, stride: number, padding: number): number {
  const span = size + 2 * padding - kernel;
  return span < 0 ? 0 : Math.floor(span / stride) + 1;
}

/** Why `win` cannot slide over an h×w input, or null when it can. */
export function windowMismatch(win: PoolWindow, h: number, w: number): string | null {
  if (pooledSize(h, win.kh, win.sh, win.ph) >= 1 && pooledSize(w, win.kw, win.sw, win.pw) >= 1) return null;
  return `a ${win.kh}×${win.kw} window with padding ${win.ph}×${win.pw} does not fit a ${h}×${w} input`;
}

/** A layer's buffers for one input shape; `argmax` is empty for the average pools. */
export interface PoolBuffers {
  y: Tensor;
  dx: Tensor;
  argmax: Int32Array;
}

/**
 * Shape checks, buffers and contiguity for a pooling layer; subclasses supply the output size and the two
 * loops, which see contiguous NCHW data as `planes` = N·C planes of h×w values (from offset `xo`) mapped to
 * planes of oh×ow. Strided inputs and upstream gradients are copied first; every layer's own output is
 * contiguous, so training reads in place.
 */
export abstract class SpatialPool extends ModuleBase {
  private readonly cache: BufferCache<PoolBuffers>;
  /** The buffers of the last forward, which backward reads. */
  protected last: PoolBuffers | null = null;

  constructor(
    protected readonly label: string,
    withArgmax: boolean,
  ) {
    super();
    this.cache = new BufferCache((shape, dtype: DType) => {
      const [n, c, h, w] = shape;
      const [oh, ow] = this.outputSize(h, w);
      return {
        y: residentZeros([n, c, oh, ow], dtype),
        dx: residentZeros([n, c, h, w], dtype),
        argmax: new Int32Array(withArgmax ? n * c * oh * ow : 0),
      };
    });
  }

  /** [oh, ow] for an h×w input; throws an NnError when the layer cannot take it. */
  protected abstract outputSize(h: number, w: number): [number, number];
  protected abstract pool(
    x: FloatArray,
    xo: number,
    b: PoolBuffers,
    planes: number,
    h: number,
    w: number,
  ): void;
  /** Writes every element of b.dx (the gradient must not depend on what the buffer held before). */
  protected abstract unpool(
    g: FloatArray,
    go: number,
    b: PoolBuffers,
    planes: number,
    h: number,
    w: number,
  ): void;

  forward(x: Tensor): Tensor {
    const where = `${this.label}.forward: input`;
    const n = expectBatch(x, where);
    if (x.shape.length !== 4) fail(where, `expected a 4-D [N, C, H, W] tensor, got shape [${x.shape}]`);
    const dtype = dtypeOf(x, where);
    const [, c, h, w] = x.shape;
    const src = isContiguous(x) ? x : contiguous(x);
    const b = this.cache.get(x.shape, dtype); // outputSize throws here for an input the layer cannot take
    this.pool(src.data, src.offset, b, n * c, h, w);
    this.last = b;
    return b.y;
  }

  backward(dY: Tensor): Tensor {
    const where = `${this.label}.backward`;
    const b = this.last;
    if (b === null) throw new NnError(`${where}: called before forward`);
    expectSameShape(dY, b.y, where, "dY");
    expectDtype(dY, dtypeOf(b.y, where), `${where}: dY`);
    const g = isContiguous(dY) ? dY : contiguous(dY);
    const [n, c, h, w] = b.dx.shape;
    this.unpool(g.data, g.offset, b, n * c, h, w);
    return b.dx;
  }
}

/** A pooling layer with a sliding window (kernel, stride, padding). */
export abstract class WindowPool extends SpatialPool {
  readonly kernel: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  protected readonly win: PoolWindow;
  /** Kernel 2, stride 2, no padding: the common CNN downsampling, with loops of its own. */
  protected readonly halving: boolean;

  constructor(label: string, withArgmax: boolean, kernel: Size2, opts: Pool2dOptions) {
    super(label, withArgmax);
    this.win = poolWindow(label, kernel, opts);
    const { kh, kw, sh, sw, ph, pw } = this.win;
    this.kernel = [kh, kw];
    this.stride = [sh, sw];
    this.padding = [ph, pw];
    this.halving = kh === 2 && kw === 2 && sh === 2 && sw === 2 && ph === 0 && pw === 0;
  }

  protected outputSize(h: number, w: number): [number, number] {
    const why = windowMismatch(this.win, h, w);
    if (why !== null) fail(`${this.label}.forward: input`, why);
    const { kh, kw, sh, sw, ph, pw } = this.win;
    return [pooledSize(h, kh, sh, ph), pooledSize(w, kw, sw, pw)];
  }
}

/**
 * PyTorch's nn.MaxPool2d (dilation 1, ceil_mode false): y = the maximum of each window, padded positions
 * being −∞. Forward records, per output, the index h·W + w within its input plane of the FIRST maximum in
 * row-major window order (PyTorch's CPU kernel and `return_indices`; a NaN counts as a maximum, so NaNs
 * propagate); backward sends each dY to that element only, summing where windows overlap.
 */
export class MaxPool2d extends WindowPool {
  constructor(kernel: Size2, opts: Pool2dOptions = {}) {
    super("MaxPool2d", true, kernel, opts);
  }

  /** The argmax of the last forward, one per output in [N, C, oh, ow] order (read-only, for tests). */
  get indices(): Int32Array | null {
    return this.last?.argmax ?? null;
  }

  protected pool(x: FloatArray, xo: number, b: PoolBuffers, planes: number, h: number, w: number): void {
    const [, , oh, ow] = b.y.shape;
    const plane = h * w;
    for (let p = 0; p < planes; p++) {
      const base = xo + p * plane;
      const o = p * oh * ow;
      // A NaN in the plane makes the check NaN (as may +∞ with −∞, harmlessly): the scan redoes the plane.
      const done = this.halving && !Number.isNaN(maxHalving(x, base, b.y.data, b.argmax, o, w, oh, ow));
      if (!done) maxScan(x, base, b.y.data, b.argmax, o, h, w, oh, ow, this.win);
    }
  }

  protected unpool(g: FloatArray, go: number, b: PoolBuffers, planes: number, h: number, w: number): void {
    const dx = b.dx.data;
    const arg = b.argmax;
    const [, , oh, ow] = b.y.shape;
    const plane = h * w;
    let o = 0;
    // Zeroing plane by plane keeps the plane in cache for the scatter that follows; += sums overlaps.
    for (let p = 0; p < planes; p++) {
      const base = p * plane;
      dx.fill(0, base, base + plane);
      for (const end = o + oh * ow; o < end; o++) dx[base + arg[o]] += g[go + o];
    }
  }
}

/**
 * Kernel 2, stride 2 over one plane, for the first maximum of each 2×2 window without data-dependent
 * branches (on random data a branch per comparison mispredicts about half the time): the comparisons become
 * 0/1 integers that pick the winner of each row pair, then of the two, by index. Strict comparisons give the
 * row-major scan's first maximum. Returns the sum of the plane's inputs, which is NaN when the plane holds a
 * NaN: the comparisons skip NaNs, which PyTorch propagates, so the caller rescans such a plane.
 */
function maxHalving(
  x: FloatArray,
  base: number,
  y: FloatArray,
  arg: Int32Array,
  o0: number,
  w: number,
  oh: number,
  ow: number,
): number {
  let check = 0;
  let o = o0;
  for (let i = 0; i < oh; i++) {
    const top = 2 * i * w; // plane index of the window's first element
    for (let j = 0; j < ow; j++, o++) {
      const first = top + 2 * j;
      const e = base + first;
      const a = x[e];
      const bb = x[e + 1];
      const c = x[e + w];
      const d = x[e + w + 1];
      // Unary plus turns each comparison into 0 or 1 without a branch (a setcc, not a jump).
      const right0 = +(bb > a);
      const right1 = +(d > c);
      const lower = +(x[e + w + right1] > x[e + right0]);
      const t = right0 + lower * (w + right1 - right0); // 0, 1, w or w + 1
      y[o] = x[e + t];
      arg[o] = first + t;
      check += a + bb + c + d;
    }
  }
  return check;
}

/**
 * PyTorch's scan over one plane, for any window: from −∞ with the window's first element as the index, a
 * strictly greater value or a NaN replaces the maximum, so ties keep the first and the last NaN wins.
 */
function maxScan(
  x: FloatArray,
  base: number,
  y: FloatArray,
  arg: Int32Array,
  o0: number,
  h: number,
  w: number,
  oh: number,
  ow: number,
  win: PoolWindow,
): void {
  const { kh, kw, sh, sw, ph, pw } = win;
  let o = o0;
  for (let i = 0; i < oh; i++) {
    const h0 = i * sh - ph;
    const hs = h0 < 0 ? 0 : h0;
    const he = h0 + kh > h ? h : h0 + kh;
    for (let j = 0; j < ow; j++, o++) {
      const w0 = j * sw - pw;
      const ws = w0 < 0 ? 0 : w0;
      const we = w0 + kw > w ? w : w0 + kw;
      let best = Number.NEGATIVE_INFINITY;
      let k = hs * w + ws;
      for (let r = hs; r < he; r++) {
        const row = r * w;
        for (let c = ws; c < we; c++) {
          const v = x[base + row + c];
          if (v > best || Number.isNaN(v)) {
            best = v;
            k = row + c;
          }
        }
      }
      y[o] = best;
      arg[o] = k;
    }
  }
}
