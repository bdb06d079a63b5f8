import type { NdArray } from "ndarray";
import ndarray from "ndarray";
import { fail } from "./errors.js";

export type FloatArray = Float32Array | Float64Array;
export type DType = "float32" | "float64";
/** A tensor is a scijs ndarray view (data + shape + stride + offset) over a Float32Array or Float64Array. */
export type Tensor<T extends FloatArray = FloatArray> = NdArray<T>;
/** Anything element-wise functions accept: a tensor, or a typed array treated as a 1-D contiguous tensor. */
export type TensorLike = Tensor | FloatArray;

export function isFloatArray(x: unknown): x is FloatArray {
  return x instanceof Float32Array || x instanceof Float64Array;
}

/** Wraps a typed array as a 1-D view; tensors pass through unchanged. */
export function asTensor(x: TensorLike): Tensor {
  return isFloatArray(x) ? ndarray(x, [x.length]) : x;
}

/** The dtype of a tensor's (or typed array's) storage: "float64" for a Float64Array, otherwise "float32". */
export function dtypeOf(t: TensorLike): DType {
  const data = isFloatArray(t) ? t : t.data;
  return data instanceof Float64Array ? "float64" : "float32";
}

/** The number of elements of `shape`; throws naming `fn` unless it is an array of non-negative integers. */
export function checkShape(fn: string, shape: readonly number[]): number {
  if (!Array.isArray(shape))
    fail(fn, `shape must be an array of non-negative integers, got ${String(shape)}`);
  let size = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0)
      fail(fn, `shape must hold non-negative integers, got [${shape.join(", ")}]`);
    size *= d;
  }
  return size;
}

function allocate(fn: string, size: number, dtype: DType): FloatArray {
  if (dtype === "float32") return new Float32Array(size);
  if (dtype === "float64") return new Float64Array(size);
  return fail(fn, `dtype must be "float32" or "float64", got ${JSON.stringify(dtype)}`);
}

export function zeros(shape: number[], dtype: DType = "float32"): Tensor {
  return ndarray(allocate("zeros", checkShape("zeros", shape), dtype), shape.slice());
}

export function full(shape: number[], value: number, dtype: DType = "float32"): Tensor {
  const data = allocate("full", checkShape("full", shape), dtype);
  data.fill(value);
  return ndarray(data, shape.slice());
}

export function ones(shape: number[], dtype: DType = "float32"): Tensor {
  return full(shape, 1, dtype);
}

/**
 * Copies numbers into a new tensor. A nested number[][] gives shape [rows, cols] (rows must be equal length);
 * a flat list gives [length] unless `shape` is passed (its product must equal the number of values).
 */
export function fromArray(
  values: ArrayLike<number> | number[][],
  shape?: number[],
  dtype: DType = "float32",
): Tensor {
  let flat: ArrayLike<number>;
  let inferred: number[];
  if (Array.isArray(values) && values.length > 0 && Array.isArray(values[0])) {
    const rows = values as number[][];
    const cols = rows[0].length;
    const out: number[] = [];
    for (let i = 0; i < rows.length; i++) {
      if (!Array.isArray(rows[i]) || rows[i].length !== cols) {
        fail("fromArray", `row ${i} has ${rows[i]?.length} values, expected ${cols} (all rows equal length)`);
      }
      for (const v of rows[i]) out.push(v);
    }
    flat = out;
    inferred = [rows.length, cols];
  } else {
    flat = values as ArrayLike<number>;
    inferred = [flat.length];
  }
  const finalShape = shape ?? inferred;
  const size = checkShape("fromArray", finalShape);
  if (size !== flat.length) {
    fail("fromArray", `shape [${finalShape.join(", ")}] holds ${size} values but ${flat.length} were given`);
  }
  const data = allocate("fromArray", size, dtype);
  for (let i = 0; i < size; i++) data[i] = flat[i];
  return ndarray(data, finalShape.slice());
}

/** Wraps (no copy) a typed array as a contiguous row-major tensor; the shape must cover the whole array. */
export function fromTypedArray<T extends FloatArray>(data: T, shape: number[]): Tensor<T> {
  if (!isFloatArray(data)) fail("fromTypedArray", "data must be a Float32Array or Float64Array");
  const size = checkShape("fromTypedArray", shape);
  if (size !== data.length) {
    fail(
      "fromTypedArray",
      `shape [${shape.join(", ")}] holds ${size} values but the array has ${data.length}`,
    );
  }
  return ndarray(data, shape.slice());
}

/** numpy-style arange: values start, start+step, ... below stop (above stop for a negative step). */
export function arange(start: number, stop?: number, step = 1, dtype: DType = "float32"): Tensor {
  let lo = start;
  let hi = stop;
  if (hi === undefined) {
    hi = lo;
    lo = 0;
  }
  if (step === 0 || !Number.isFinite(step))
    fail("arange", `step must be a finite non-zero number, got ${step}`);
  const n = Math.max(0, Math.ceil((hi - lo) / step));
  const data = allocate("arange", n, dtype);
  for (let i = 0; i < n; i++) data[i] = lo + i * step;
  return ndarray(data, [n]);
}

/** True when the view is row-major (C order) with no gaps; the offset may be anything. */
export function isContiguous(t: Tensor): boolean {
  let expected = 1;
  for (let d = t.shape.length - 1; d >= 0; d--) {
    if (t.shape[d] !== 1 && t.stride[d] !== expected) return false;
    expected *= t.shape[d];
  }
  return true;
}

/** Copies any view into `out` (same shape), element by element in row-major order. */
export function copyInto(out: Tensor, src: Tensor): Tensor {
  const n = src.size;
  if (isContiguous(src) && isContiguous(out)) {
    const s = src.offset;
    out.data.set(src.data.subarray(s, s + n), out.offset);
    return out;
  }
  const shape = src.shape;
  const dims = shape.length;
  const idx = new Array<number>(dims).fill(0);
  for (let k = 0; k < n; k++) {
    let so = src.offset;
    let oo = out.offset;
    for (let d = 0; d < dims; d++) {
      so += idx[d] * src.stride[d];
      oo += idx[d] * out.stride[d];
    }
    out.data[oo] = src.data[so];
    for (let d = dims - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** Returns `t` itself when already contiguous, otherwise a contiguous copy with the same dtype. */
export function contiguous<T extends FloatArray>(t: Tensor<T>): Tensor<T> {
  if (isContiguous(t)) return t;
  return copyInto(zeros(t.shape, dtypeOf(t)), t) as Tensor<T>;
}

function convert(t: Tensor, dtype: DType): Tensor {
  return copyInto(zeros(t.shape, dtype), t);
}

/** A contiguous float64 copy (always a copy). */
export function toFloat64(t: Tensor): Tensor<Float64Array> {
  return convert(t, "float64") as Tensor<Float64Array>;
}

/** A contiguous float32 copy (always a copy; values are rounded to float32). */
export function toFloat32(t: Tensor): Tensor<Float32Array> {
  return convert(t, "float32") as Tensor<Float32Array>;
}

/** A view with a new shape over contiguous data; one dimension may be -1 (inferred). Throws for strided views. */
export function reshape<T extends FloatArray>(t: Tensor<T>, shape: number[]): Tensor<T> {
  if (!isContiguous(t)) fail("reshape", "the tensor is not contiguous; call contiguous(t) first");
  const free = shape.indexOf(-1);
  const known = shape.reduce((p, d, i) => (i === free ? p : p * d), 1);
  const resolved = shape.slice();
  if (free >= 0) {
    if (known === 0 || t.size % known !== 0) {
      fail("reshape", `cannot infer -1 in [${shape.join(", ")}] for ${t.size} elements`);
    }
    resolved[free] = t.size / known;
  }
  const size = checkShape("reshape", resolved);
  if (size !== t.size) fail("reshape", `cannot reshape ${t.size} elements into [${shape.join(", ")}]`);
  return ndarray(t.data, resolved, undefined, t.offset);
}

/** The transposed view of a 2-D tensor (no copy). */
export function transpose<T extends FloatArray>(t: Tensor<T>): Tensor<T> {
  if (t.shape.length !== 2) fail("transpose", `expected a 2-D tensor, got shape [${t.shape.join(", ")}]`);
  return t.transpose(1, 0);
}

/** Rows start..end-1 (along axis 0) as a view (no copy). */
export function sliceRows<T extends FloatArray>(t: Tensor<T>, start: number, end: number): Tensor<T> {
  const rows = t.shape[0];
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > rows) {
    fail("sliceRows", `need 0 <= start <= end <= ${rows}, got start=${start} end=${end}`);
  }
  const shape = t.shape.slice();
  shape[0] = end - start;
  return ndarray(t.data, shape, t.stride.slice(), t.offset + start * t.stride[0]);
}

/** out[i, ...] = src[indices[i], ...]; out must have indices.length rows and src's row shape. Returns out. */
export function gatherRows(out: Tensor, src: Tensor, indices: ArrayLike<number>): Tensor {
  const n = indices.length;
  if (out.shape[0] !== n) fail("gatherRows", `out has ${out.shape[0]} rows, expected ${n} (one per index)`);
  if (out.shape.length !== src.shape.length || out.shape.some((d, i) => i > 0 && d !== src.shape[i])) {
    fail("gatherRows", `row shape mismatch: out [${out.shape.join(", ")}] vs src [${src.shape.join(", ")}]`);
  }
  const rows = src.shape[0];
  const fast = isContiguous(src) && isContiguous(out);
  const rowSize = rows > 0 ? src.size / rows : 0;
  for (let i = 0; i < n; i++) {
    const r = indices[i];
    if (!Number.isInteger(r) || r < 0 || r >= rows)
      fail("gatherRows", `index ${r} at position ${i} is outside 0..${rows - 1}`);
    if (fast) {
      const s = src.offset + r * rowSize;
      out.data.set(src.data.subarray(s, s + rowSize), out.offset + i * rowSize);
    } else {
      copyInto(sliceRows(out, i, i + 1), sliceRows(src, r, r + 1));
    }
  }
  return out;
}
