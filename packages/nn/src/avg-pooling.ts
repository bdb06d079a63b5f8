/**
 * Average pooling over [N, C, H, W] batches with PyTorch's semantics: nn.AvgPool2d (ceil_mode false,
 * count_include_pad true) and nn.AdaptiveAvgPool2d (a fixed output size for any input size).
 */
import type { FloatArray } from "@nabla/ndarray";
import { check } from "./errors.js";
import {
  type Pool2dOptions,
  type PoolBuffers,
  type Size2,
  SpatialPool,
  size2,
  WindowPool,
} from "./pooling.js";

/** Zeroes the last column (odd w) and last row (odd h) of each plane, which 2×2/2 windows never cover. */
function zeroUncovered(dx: FloatArray, planes: number, h: number, w: number): void {
  const plane = h * w;
  for (let p = 0; p < planes; p++) {
    const base = p * plane;
    if (w & 1) for (let r = 0; r < h; r++) dx[base + r * w + w - 1] = 0;
    if (h & 1) dx.fill(0, base + (h - 1) * w, base + plane);
  }
}

/**
 * PyTorch's nn.AvgPool2d with its defaults (ceil_mode false, count_include_pad true): y = the window's sum
 * over its kh·kw positions, padded ones counting as zeros, so every divisor is kh·kw. Backward adds
 * dY/(kh·kw) to every input position of the window, summing where windows overlap.
 */
export class AvgPool2d extends WindowPool {
  constructor(kernel: Size2, opts: Pool2dOptions = {}) {
    super("AvgPool2d", false, kernel, opts);
  }

  protected pool(x: FloatArray, xo: number, b: PoolBuffers, planes: number, h: number, w: number): void {
    const y = b.y.data;
    const [, , oh, ow] = b.y.shape;
    const { kh, kw, sh, sw, ph, pw } = this.win;
    // With ceil_mode false no window reaches past the padding, so PyTorch's divisor is always kh·kw.
    const div = kh * kw;
    const plane = h * w;
    let o = 0;
    if (this.halving) {
      for (let p = 0; p < planes; p++) {
        const base = xo + p * plane;
        for (let i = 0; i < oh; i++) {
          const r0 = base + 2 * i * w;
          const r1 = r0 + w;
          for (let j = 0; j < ow; j++, o++) {
            const c = 2 * j;
            y[o] = (x[r0 + c] + x[r0 + c + 1] + x[r1 + c] + x[r1 + c + 1]) / 4; // row-major, as PyTorch sums
          }
        }
      }
      return;
    }
    for (let p = 0; p < planes; p++) {
      const base = xo + p * plane;
      for (let i = 0; i < oh; i++) {
        const h0 = i * sh - ph;
        const hs = h0 < 0 ? 0 : h0;
        const he = h0 + kh > h ? h : h0 + kh;
        for (let j = 0; j < ow; j++, o++) {
          const w0 = j * sw - pw;
          const ws = w0 < 0 ? 0 : w0;
          const we = w0 + kw > w ? w : w0 + kw;
          let sum = 0;
          for (let r = hs; r < he; r++) {
            const row = base + r * w;
            for (let c = ws; c < we; c++) sum += x[row + c];
          }
          y[o] = sum / div;
        }
      }
    }
  }

  protected unpool(g: FloatArray, go: number, b: PoolBuffers, planes: number, h: number, w: number): void {
    const dx = b.dx.data;
    const [, , oh, ow] = b.y.shape;
    const { kh, kw, sh, sw, ph, pw } = this.win;
    const div = kh * kw;
    const plane = h * w;
    let o = 0;
    if (this.halving) {
      for (let p = 0; p < planes; p++) {
        const base = p * plane;
        for (let i = 0; i < oh; i++) {
          const r0 = base + 2 * i * w;
          for (let j = 0; j < ow; j++, o++) {
            const v = g[go + o] / 4;
            const e = r0 + 2 * j;
            dx[e] = v;
            dx[e + 1] = v;
            dx[e + w] = v;
            dx[e + w + 1] = v;
          }
        }
      }
      if ((h | w) & 1) zeroUncovered(dx, planes, h, w);
      return;
    }
    for (let p = 0; p < planes; p++) {
      const base = p * plane;
      dx.fill(0, base, base + plane); // per plane, so the plane is in cache for the sums that follow
      for (let i = 0; i < oh; i++) {
        const h0 = i * sh - ph;
        const hs = h0 < 0 ? 0 : h0;
        const he = h0 + kh > h ? h : h0 + kh;
        for (let j = 0; j < ow; j++, o++) {
          const w0 = j * sw - pw;
          const ws = w0 < 0 ? 0 : w0;
          const we = w0 + kw > w ? w : w0 + kw;
          const v = g[go + o] / div;
          for (let r = hs; r < he; r++) {
            const row = base + r * w;
            for (let c = ws; c < we; c++) dx[row + c] += v;
          }
        }
      }
    }
  }
}

/** First input row (or column) of output i of `out` over `size`: floor(i·size/out), as PyTorch's start_index. */
function windowStart(i: number, size: number, out: number): number {
  return Math.floor((i * size) / out);
}

/** One past the last input row of output i: ceil((i + 1)·size/out), as PyTorch's end_index. */
function windowEnd(i: number, size: number, out: number): number {
  return Math.ceil(((i + 1) * size) / out);
}

/**
 * y[i, j] = the mean of input rows floor(i·H/oh) … ceil((i+1)·H/oh) − 1 and the matching columns, so the
 * windows cover the input, may overlap by one row when oh does not divide H, and repeat rows when oh > H.
 * Output 1 (the default) is global average pooling, [N, C, H, W] → [N, C, 1, 1], which sums each contiguous
 * plane in one pass. Backward adds dY / (window rows · window columns) to every input of each window.
 */
export class AdaptiveAvgPool2d extends SpatialPool {
  /** Output [height, width]. */
  readonly outputShape: [number, number];

  constructor(out: Size2 = 1) {
    super("AdaptiveAvgPool2d", false);
    const [oh, ow] = typeof out === "number" || Array.isArray(out) ? size2(out) : [Number.NaN, Number.NaN];
    check(
      Number.isInteger(oh) && Number.isInteger(ow) && oh >= 1 && ow >= 1,
      "AdaptiveAvgPool2d",
      `output size must be a positive integer or a pair of them, got ${String(out)}`,
    );
    this.outputShape = [oh, ow];
  }

  protected outputSize(): [number, number] {
    return this.outputShape;
  }

  protected pool(x: FloatArray, xo: number, b: PoolBuffers, planes: number, h: number, w: number): void {
    const y = b.y.data;
    const [oh, ow] = this.outputShape;
    const plane = h * w;
    if (oh === 1 && ow === 1) {
      // PyTorch computes this case as a mean over H and W, the sum divided by H·W (its sum runs in another
      // order, so the last bit can differ).
      for (let p = 0; p < planes; p++) {
        const base = xo + p * plane;
        let sum = 0;
        for (let k = base; k < base + plane; k++) sum += x[k];
        y[p] = sum / plane;
      }
      return;
    }
    let o = 0;
    for (let p = 0; p < planes; p++) {
      const base = xo + p * plane;
      for (let i = 0; i < oh; i++) {
        const hs = windowStart(i, h, oh);
        const he = windowEnd(i, h, oh);
        for (let j = 0; j < ow; j++, o++) {
          const ws = windowStart(j, w, ow);
          const we = windowEnd(j, w, ow);
          let sum = 0;
          for (let r = hs; r < he; r++) {
            const row = base + r * w;
            for (let c = ws; c < we; c++) sum += x[row + c];
          }
          // Divided by rows then columns, in PyTorch's order (the same bits as its CPU kernel).
          y[o] = sum / (he - hs) / (we - ws);
        }
      }
    }
  }

  protected unpool(g: FloatArray, go: number, b: PoolBuffers, planes: number, h: number, w: number): void {
    const dx = b.dx.data;
    const [oh, ow] = this.outputShape;
    const plane = h * w;
    if (oh === 1 && ow === 1) {
      for (let p = 0; p < planes; p++) dx.fill(g[go + p] / plane, p * plane, (p + 1) * plane);
      return;
    }
    let o = 0;
    for (let p = 0; p < planes; p++) {
      const base = p * plane;
      dx.fill(0, base, base + plane);
      for (let i = 0; i < oh; i++) {
        const hs = windowStart(i, h, oh);
        const he = windowEnd(i, h, oh);
        for (let j = 0; j < ow; j++, o++) {
          const ws = windowStart(j, w, ow);
          const we = windowEnd(j, w, ow);
          const v = g[go + o] / (he - hs) / (we - ws);
          for (let r = hs; r < he; r++) {
            const row = base + r * w;
            for (let c = ws; c < we; c++) dx[row + c] += v;
          }
        }
      }
    }
  }
}
