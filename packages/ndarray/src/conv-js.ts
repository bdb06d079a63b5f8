/**
 * The JavaScript convolution driver: im2col / col2im loops over a tile of output rows and gemm() per tile.
 * It runs wherever native/conv.cc does not (WebAssembly and reference kernels, float64, browsers) and
 * defines the order of every addition outside the GEMMs, which the native code repeats exactly.
 */
import ndarray from "ndarray";
import { gemm, residentZeros } from "./gemm/index.js";
import type { DType, FloatArray, Tensor } from "./tensor.js";

/** What the loops need of a Conv2dPlan (conv-plan.ts), kept structural so this module does not import it. */
export interface ConvShape {
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
  /** C·kh·kw: rows of the column matrix. */
  readonly columns: number;
  /** Output rows per tile (the last tile may have fewer). */
  readonly rowsPerTile: number;
}

/** Output columns [lo, hi) of kernel column j whose input column lies inside the image (stride 1 only). */
function span(s: ConvShape, j: number): [number, number] {
  const OW = s.outWidth;
  if (s.strideWidth !== 1) return [0, OW];
  const iw0 = j * s.dilationWidth - s.paddingWidth;
  const lo = Math.min(OW, Math.max(0, -iw0));
  return [lo, Math.max(lo, Math.min(OW, s.inWidth - iw0))];
}

/** cols[k][t] = x[c][ih][iw] for output rows [oh0, oh1) of the sample at x[xo]; k = (c, i, j), zeros outside. */
export function im2colRows(
  s: ConvShape,
  x: FloatArray,
  xo: number,
  oh0: number,
  oh1: number,
  cols: FloatArray,
): void {
  const { inHeight: H, inWidth: W, outWidth: OW, strideHeight: SH, strideWidth: SW } = s;
  // Output rows that map to consecutive input rows of the same width: one copy per kernel tap (the typed
  // array's own memcpy), then the columns in the padding, which the copy took from a neighbouring row, zeroed.
  const rowsRun = SW === 1 && SH === 1 && OW === W;
  const plane = H * W;
  let row = 0;
  for (let c = 0; c < s.inChannels; c++) {
    for (let i = 0; i < s.kernelHeight; i++) {
      for (let j = 0; j < s.kernelWidth; j++) {
        const iw0 = j * s.dilationWidth - s.paddingWidth;
        const [lo, hi] = span(s, j);
        if (rowsRun) {
          const ihFirst = oh0 - s.paddingHeight + i * s.dilationHeight;
          const a = Math.min(oh1, Math.max(oh0, oh0 - ihFirst));
          const b = Math.max(a, Math.min(oh1, oh0 + H - ihFirst));
          const dst = row + (a - oh0) * OW;
          const end = row + (oh1 - oh0) * OW;
          // (fill and set cost a call each, so the empty ones are skipped)
          if (dst > row) cols.fill(0, row, dst);
          if (b > a) {
            // Elements [first, last) of the run lie inside this channel's image; the rest are padding.
            const start = (c * H + ihFirst + (a - oh0)) * W + iw0;
            const len = (b - a) * OW;
            const first = Math.max(0, c * plane - start);
            const last = Math.max(first, Math.min(len, (c + 1) * plane - start));
            if (first > 0) cols.fill(0, dst, dst + first);
            cols.set(x.subarray(xo + start + first, xo + start + last), dst + first);
            if (last < len) cols.fill(0, dst + last, dst + len);
            if (lo > 0 || hi < OW) {
              for (let r = dst; r < dst + len; r += OW) {
                for (let t = 0; t < lo; t++) cols[r + t] = 0;
                for (let t = hi; t < OW; t++) cols[r + t] = 0;
              }
            }
          }
          const filled = row + (b - oh0) * OW;
          if (end > filled) cols.fill(0, filled, end);
          row = end;
          continue;
        }
        for (let oh = oh0; oh < oh1; oh++, row += OW) {
          const ih = oh * SH - s.paddingHeight + i * s.dilationHeight;
          if (ih < 0 || ih >= H) {
            for (let t = 0; t < OW; t++) cols[row + t] = 0;
            continue;
          }
          const src = xo + (c * H + ih) * W + iw0;
          if (SW === 1) {
            for (let t = 0; t < lo; t++) cols[row + t] = 0;
            for (let t = lo; t < hi; t++) cols[row + t] = x[src + t];
            for (let t = hi; t < OW; t++) cols[row + t] = 0;
          } else {
            for (let t = 0, iw = iw0; t < OW; t++, iw += SW)
              cols[row + t] = iw >= 0 && iw < W ? x[src + t * SW] : 0;
          }
        }
      }
    }
  }
}

/** dx[c][ih][iw] += cols[k][t] (the adjoint of im2colRows), k outer and t inner: the order conv.cc repeats. */
export function col2imRows(
  s: ConvShape,
  cols: FloatArray,
  oh0: number,
  oh1: number,
  dx: FloatArray,
  dxo: number,
): void {
  const { inHeight: H, inWidth: W, outWidth: OW, strideHeight: SH, strideWidth: SW } = s;
  let row = 0;
  for (let c = 0; c < s.inChannels; c++) {
    for (let i = 0; i < s.kernelHeight; i++) {
      for (let j = 0; j < s.kernelWidth; j++) {
        const iw0 = j * s.dilationWidth - s.paddingWidth;
        const [lo, hi] = span(s, j);
        for (let oh = oh0; oh < oh1; oh++, row += OW) {
          const ih = oh * SH - s.paddingHeight + i * s.dilationHeight;
          if (ih < 0 || ih >= H) continue;
          const dst = dxo + (c * H + ih) * W + iw0;
          if (SW === 1) {
            for (let t = lo; t < hi; t++) dx[dst + t] += cols[row + t];
          } else {
            for (let t = 0, iw = iw0; t < OW; t++, iw += SW)
              if (iw >= 0 && iw < W) dx[dst + t * SW] += cols[row + t];
          }
        }
      }
    }
  }
}

/**
 * A plan's buffers for one dtype, each made on first use: the column tile with 2-D views re-pointed at every
 * tile (so the loops create no objects), the weight-gradient partial sums, the bias sums and the flipped
 * weights of the input gradient.
 */
export class ConvWorkspace {
  private colsData: FloatArray | null = null;
  private partialData: FloatArray | null = null;
  private sumsData: Float64Array | null = null;
  private flippedData: Tensor | null = null;
  private views: { weight: Tensor; colTile: Tensor; outTile: Tensor; partial: Tensor } | null = null;

  constructor(
    private readonly s: ConvShape,
    private readonly groups: number,
    readonly dtype: DType,
  ) {}

  /** The column tile: columns × (rows per tile · OW). Resident, so WebAssembly GEMMs read it in place. */
  get cols(): FloatArray {
    if (this.colsData === null) {
      const T = Math.min(this.s.rowsPerTile, this.s.outHeight) * this.s.outWidth;
      this.colsData = residentZeros([this.s.columns * T], this.dtype).data;
    }
    return this.colsData;
  }

  /** groups × out × columns: group g's weight-gradient sum at g·out·columns. */
  get partials(): FloatArray {
    if (this.partialData === null) {
      this.partialData = residentZeros([this.groups * this.s.outChannels * this.s.columns], this.dtype).data;
    }
    return this.partialData;
  }

  get sums(): Float64Array {
    if (this.sumsData === null) this.sumsData = new Float64Array(this.s.outHeight * this.s.outWidth);
    return this.sumsData;
  }

  /** [in, out, kh, kw]: the weights with in and out swapped and both spatial axes reversed. */
  get flipped(): Tensor {
    if (this.flippedData === null) {
      const { inChannels: C, outChannels: O, kernelHeight: KH, kernelWidth: KW } = this.s;
      this.flippedData = residentZeros([C, O, KH, KW], this.dtype);
    }
    return this.flippedData;
  }

  /** [out, columns] over the weight, [columns, T] over the tile, [out, T] over an output-shaped sample, and
   * [out, columns] over one group's partial sum. */
  get tiles() {
    if (this.views === null) {
      const { outChannels: O, columns: K } = this.s;
      const T = Math.min(this.s.rowsPerTile, this.s.outHeight) * this.s.outWidth;
      const cols = this.cols;
      this.views = {
        weight: ndarray(cols, [O, K], [K, 1], 0),
        colTile: ndarray(cols, [K, T], [T, 1], 0),
        outTile: ndarray(cols, [O, T], [this.s.outHeight * this.s.outWidth, 1], 0),
        partial: ndarray(this.partials, [O, K], [K, 1], 0),
      };
    }
    return this.views;
  }
}

/** w'[c][o][i][j] = w[o][c][kh − 1 − i][kw − 1 − j] into ws.flipped (the input gradient's weights). */
export function flipWeights(s: ConvShape, ws: ConvWorkspace, w: Tensor): Tensor {
  const out = ws.flipped;
  const { inChannels: C, outChannels: O, kernelHeight: KH, kernelWidth: KW } = s;
  const src = w.data;
  const dst = out.data;
  for (let o = 0; o < O; o++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < KH; i++)
        for (let j = 0; j < KW; j++)
          dst[((c * O + o) * KH + KH - 1 - i) * KW + KW - 1 - j] =
            src[w.offset + ((o * C + c) * KH + i) * KW + j];
  return out;
}

/** Points the tile views at output rows [oh0, oh1) of the output-shaped sample at data[offset]. */
function tile(
  ws: ConvWorkspace,
  s: ConvShape,
  oh0: number,
  oh1: number,
  data: FloatArray,
  offset: number,
): number {
  const T = (oh1 - oh0) * s.outWidth;
  const { colTile, outTile } = ws.tiles;
  colTile.shape[1] = T;
  colTile.stride[0] = T;
  outTile.shape[1] = T;
  outTile.data = data;
  outTile.offset = offset + oh0 * s.outWidth;
  return T;
}

function pointWeight(ws: ConvWorkspace, w: Tensor): void {
  ws.tiles.weight.data = w.data;
  ws.tiles.weight.offset = w.offset;
}

/**
 * y = W ⊛ x (+ bias) for n samples, or y += W ⊛ x when accumulating (no bias): per tile, im2col then
 * Y_tile = W · cols (the bias written first and added by the GEMM, beta 1).
 */
export function forwardJs(
  s: ConvShape,
  ws: ConvWorkspace,
  n: number,
  x: Tensor,
  w: Tensor,
  bias: Tensor | null,
  y: Tensor,
  accumulate: boolean,
): void {
  const O = s.outChannels;
  const P = s.outHeight * s.outWidth;
  const sampleIn = s.inChannels * s.inHeight * s.inWidth;
  pointWeight(ws, w);
  for (let i = 0; i < n; i++) {
    for (let oh0 = 0; oh0 < s.outHeight; oh0 += s.rowsPerTile) {
      const oh1 = Math.min(s.outHeight, oh0 + s.rowsPerTile);
      im2colRows(s, x.data, x.offset + i * sampleIn, oh0, oh1, ws.cols);
      const T = tile(ws, s, oh0, oh1, y.data, y.offset + i * O * P);
      if (bias !== null) {
        const start = ws.tiles.outTile.offset;
        for (let o = 0; o < O; o++)
          y.data.fill(bias.data[bias.offset + o * bias.stride[0]], start + o * P, start + o * P + T);
      }
      gemm(
        false,
        false,
        1,
        ws.tiles.weight,
        ws.tiles.colTile,
        bias !== null || accumulate ? 1 : 0,
        ws.tiles.outTile,
      );
    }
  }
}

/** dx (+)= the input gradient: per sample and tile, cols = Wᵀ · dY_tile, then col2im into dx. */
export function backwardInputJs(
  s: ConvShape,
  ws: ConvWorkspace,
  n: number,
  dy: Tensor,
  w: Tensor,
  dx: Tensor,
  accumulate: boolean,
): void {
  const P = s.outHeight * s.outWidth;
  const sampleIn = s.inChannels * s.inHeight * s.inWidth;
  pointWeight(ws, w);
  for (let i = 0; i < n; i++) {
    const dxo = dx.offset + i * sampleIn;
    if (!accumulate) dx.data.fill(0, dxo, dxo + sampleIn);
    for (let oh0 = 0; oh0 < s.outHeight; oh0 += s.rowsPerTile) {
      const oh1 = Math.min(s.outHeight, oh0 + s.rowsPerTile);
      tile(ws, s, oh0, oh1, dy.data, dy.offset + i * s.outChannels * P);
      gemm(true, false, 1, ws.tiles.weight, ws.tiles.outTile, 0, ws.tiles.colTile);
      col2imRows(s, ws.cols, oh0, oh1, dx.data, dxo);
    }
  }
}

/**
 * dw (+)= Σ over samples of dY · colsᵀ: `groups` contiguous runs of samples each summed (tile GEMMs, beta 1
 * after the first) into its partial, the partials added in group order, then added to (or written into) dw.
 * Groups let the native code run them on two threads; the JavaScript order is the same.
 */
export function backwardWeightJs(
  s: ConvShape,
  ws: ConvWorkspace,
  n: number,
  groups: number,
  x: Tensor,
  dy: Tensor,
  dw: Tensor,
  accumulate: boolean,
): void {
  const size = s.outChannels * s.columns;
  const P = s.outHeight * s.outWidth;
  const sampleIn = s.inChannels * s.inHeight * s.inWidth;
  const part = ws.partials;
  for (let g = 0; g < groups; g++) {
    // Group 0 sums into partial 0, the others into partial 1, which is then added to partial 0.
    ws.tiles.partial.offset = g === 0 ? 0 : size;
    let beta = 0;
    for (let i = Math.floor((g * n) / groups); i < Math.floor(((g + 1) * n) / groups); i++) {
      for (let oh0 = 0; oh0 < s.outHeight; oh0 += s.rowsPerTile) {
        const oh1 = Math.min(s.outHeight, oh0 + s.rowsPerTile);
        im2colRows(s, x.data, x.offset + i * sampleIn, oh0, oh1, ws.cols);
        tile(ws, s, oh0, oh1, dy.data, dy.offset + i * s.outChannels * P);
        gemm(false, true, 1, ws.tiles.outTile, ws.tiles.colTile, beta, ws.tiles.partial);
        beta = 1;
      }
    }
    if (g > 0) for (let k = 0; k < size; k++) part[k] += part[size + k];
  }
  const d = dw.data;
  const o = dw.offset;
  if (groups === 0) {
    if (!accumulate) d.fill(0, o, o + size);
  } else if (accumulate) {
    for (let k = 0; k < size; k++) d[o + k] += part[k];
  } else {
    for (let k = 0; k < size; k++) d[o + k] = part[k];
  }
}

/** db[o] (+)= Σ_t Σ_i dy[i][o][t]: samples summed per position first, all in float64, rounded once. */
export function biasGradJs(
  s: ConvShape,
  ws: ConvWorkspace,
  n: number,
  dy: Tensor,
  db: Tensor,
  accumulate: boolean,
): void {
  const O = s.outChannels;
  const P = s.outHeight * s.outWidth;
  const sums = ws.sums;
  const d = dy.data;
  const f32 = db.data instanceof Float32Array;
  for (let o = 0; o < O; o++) {
    sums.fill(0);
    for (let i = 0; i < n; i++) {
      const base = dy.offset + (i * O + o) * P;
      for (let t = 0; t < P; t++) sums[t] += d[base + t];
    }
    let total = 0;
    for (let t = 0; t < P; t++) total += sums[t];
    const value = f32 ? Math.fround(total) : total;
    const at = db.offset + o * db.stride[0];
    db.data[at] = accumulate ? db.data[at] + value : value;
  }
}
