import { platform } from "#platform";
import { wasmElementwiseThreads, wasmModuleKernel } from "./gemm/index.js";
import type { NativeGemm } from "./gemm/native.js";
import { type FloatArray, isFloatArray, type TensorLike } from "./tensor.js";

let addon: NativeGemm | null | undefined;
let problem: string | null = null;

/** The optional native addon, loaded once; null when it was not built, failed to load or is disabled. */
export function nativeAddon(): NativeGemm | null {
  if (addon === undefined) {
    const loaded = platform.loadNative();
    addon = typeof loaded === "string" ? null : loaded;
    problem = typeof loaded === "string" ? loaded : null;
  }
  return addon;
}

/** Why the addon is unavailable, or null. */
export function nativeAddonProblem(): string | null {
  nativeAddon();
  return problem;
}

/** Contiguous arrays at least this long go to the native element-wise kernels (a call costs ~1 µs). */
const NATIVE_MIN_LENGTH = 4096;

export const EW_ADD = 0;
export const EW_SUB = 1;
export const EW_MUL = 2;
export const EW_SCALE = 3;
export const EW_AXPY = 4;
export const EW_RELU = 5;
/** out = b > 0 ? a : 0 (a = dY, b = the ReLU's input or output). */
export const EW_RELU_BACKWARD = 6;

function start(x: TensorLike): number {
  const data = isFloatArray(x) ? x : x.data;
  return data.byteOffset / 4 + (isFloatArray(x) ? 0 : x.offset);
}

/** An input may be the very same elements as out, or disjoint from them; partial overlap stays in JS. */
function safeAlias(
  out: TensorLike,
  outData: FloatArray,
  x: TensorLike,
  xData: FloatArray,
  n: number,
): boolean {
  return outData.buffer !== xData.buffer || sameOrDisjoint(start(out), start(x), n);
}

/** Whether n elements from o and n from s (element indices in one buffer) are the same or do not overlap. */
function sameOrDisjoint(o: number, s: number, n: number): boolean {
  return o === s || o + n <= s || s + n <= o;
}

/**
 * Runs a contiguous float32 element-wise op natively when it is long enough and the addon is loaded (axpy,
 * the optimizer's update, and ReLU forward and backward in the WebAssembly module when it is not); returns false (the caller then runs its
 * JavaScript loop, with identical results) otherwise.
 */
export function nativeElementwise(
  op: number,
  n: number,
  out: TensorLike,
  a: TensorLike,
  b: TensorLike,
  scalar: number,
): boolean {
  if (n < NATIVE_MIN_LENGTH) return false;
  const lib = nativeAddon();
  if (!lib && op !== EW_AXPY && op !== EW_RELU && op !== EW_RELU_BACKWARD) return false;
  const od = isFloatArray(out) ? out : out.data;
  const ad = isFloatArray(a) ? a : a.data;
  const bd = isFloatArray(b) ? b : b.data;
  if (!(od instanceof Float32Array && ad instanceof Float32Array && bd instanceof Float32Array)) return false;
  if (!safeAlias(out, od, a, ad, n) || !safeAlias(out, od, b, bd, n)) return false;
  const oo = isFloatArray(out) ? 0 : out.offset;
  const ao = isFloatArray(a) ? 0 : a.offset;
  const bo = isFloatArray(b) ? 0 : b.offset;
  if (lib) {
    lib.ew(op, n, od, oo, ad, ao, bd, bo, scalar);
    return true;
  }
  const w = wasmModuleKernel();
  if (!w) return false;
  // axpy's own operands are (out, a): out is both the first input and the result.
  if (op === EW_AXPY) w.elementwise("axpy", n, od, oo, od, oo, ad, ao, scalar, wasmElementwiseThreads());
  else if (op === EW_RELU)
    w.elementwise("reluBackward", n, od, oo, ad, ao, ad, ao, 0); // x > 0 ? x : 0
  else w.elementwise("reluBackward", n, od, oo, ad, ao, bd, bo, 0);
  return true;
}

/**
 * out[i, j] = a[i, j] + row[j] natively for row-major float32 out and a (out may be a) and a float32 row, when
 * the block is long enough and the addon is loaded; false otherwise (the caller loops).
 */
export function nativeAddRows(
  rows: number,
  cols: number,
  out: FloatArray,
  outOffset: number,
  a: FloatArray,
  aOffset: number,
  row: FloatArray,
  rowOffset: number,
): boolean {
  if (rows * cols < NATIVE_MIN_LENGTH) return false;
  const lib = nativeAddon();
  if (!lib || !(out instanceof Float32Array && a instanceof Float32Array && row instanceof Float32Array))
    return false;
  const o = out.byteOffset / 4 + outOffset;
  if (out.buffer === a.buffer && !sameOrDisjoint(o, a.byteOffset / 4 + aOffset, rows * cols)) return false;
  if (out.buffer === row.buffer) return false; // a row inside the output's buffer: leave it to the loop
  lib.addRows(rows, cols, out, outOffset, a, aOffset, row, rowOffset);
  return true;
}

/** sums[j] = Σ_i a[i, j] natively (float64, rows in order) for a row-major float32 block; false when not run. */
export function nativeColumnSums(
  rows: number,
  cols: number,
  a: FloatArray,
  aOffset: number,
  sums: Float64Array,
): boolean {
  if (rows * cols < NATIVE_MIN_LENGTH) return false;
  const lib = nativeAddon();
  if (!lib || !(a instanceof Float32Array)) return false;
  lib.columnSums(rows, cols, a, aOffset, sums);
  return true;
}

/** The addon's convolutions (native/conv.cc); `geometry` is Conv2dPlan's Int32Array (layout in conv.cc). */
export interface NativeConv {
  convForward(
    geometry: Int32Array,
    x: Float32Array,
    xOffset: number,
    w: Float32Array,
    wOffset: number,
    bias: Float32Array,
    biasOffset: number,
    hasBias: boolean,
    y: Float32Array,
    yOffset: number,
    accumulate: boolean,
  ): void;
  convBackwardInput(
    geometry: Int32Array,
    dy: Float32Array,
    dyOffset: number,
    w: Float32Array,
    wOffset: number,
    dx: Float32Array,
    dxOffset: number,
    accumulate: boolean,
  ): void;
  convBackwardWeight(
    geometry: Int32Array,
    x: Float32Array,
    xOffset: number,
    dy: Float32Array,
    dyOffset: number,
    dw: Float32Array,
    dwOffset: number,
    partials: Float32Array,
    accumulate: boolean,
  ): void;
  convBiasGrad(
    geometry: Int32Array,
    dy: Float32Array,
    dyOffset: number,
    db: Float32Array,
    dbOffset: number,
    accumulate: boolean,
  ): void;
}

let conv: NativeConv | null | undefined;

/** The addon's convolutions, or null when the addon is missing or was built without them. */
export function nativeConv(): NativeConv | null {
  if (conv === undefined) {
    const lib = nativeAddon() as (NativeGemm & Partial<NativeConv>) | null;
    conv = lib && typeof lib.convForward === "function" ? (lib as unknown as NativeConv) : null;
  }
  return conv;
}
