import { fail } from "./errors.js";
import {
  asTensor,
  type FloatArray,
  isContiguous,
  isFloatArray,
  type Tensor,
  type TensorLike,
} from "./tensor.js";

/** Throws unless every tensor has exactly the shape of the first. */
export function checkSameShape(fn: string, names: string[], tensors: Tensor[]): void {
  const ref = tensors[0].shape;
  for (let k = 1; k < tensors.length; k++) {
    const s = tensors[k].shape;
    if (s.length !== ref.length || s.some((d, i) => d !== ref[i])) {
      fail(fn, `${names[k]} has shape [${s.join(", ")}] but ${names[0]} has [${ref.join(", ")}]`);
    }
  }
}

/** Converts arguments to tensors, checks equal shapes, reports whether all are contiguous (flat loops apply). */
export function prepare(fn: string, names: string[], args: TensorLike[]): { ts: Tensor[]; flat: boolean } {
  const ts = args.map(asTensor);
  checkSameShape(fn, names, ts);
  return { ts, flat: ts.every(isContiguous) };
}

/**
 * Visits corresponding elements of same-shaped views in row-major order, passing each one's data index.
 * Used only for strided (non-contiguous) views; contiguous inputs take flat loops instead.
 */
export function forEachIndex(ts: Tensor[], visit: (offsets: number[]) => void): void {
  const shape = ts[0].shape;
  const dims = shape.length;
  const n = ts[0].size;
  const idx = new Array<number>(dims).fill(0);
  const offsets = new Array<number>(ts.length).fill(0);
  for (let k = 0; k < n; k++) {
    for (let t = 0; t < ts.length; t++) {
      let o = ts[t].offset;
      for (let d = 0; d < dims; d++) o += idx[d] * ts[t].stride[d];
      offsets[t] = o;
    }
    visit(offsets);
    for (let d = dims - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

/** Returns the 2-D tensor or throws a one-line error naming the function and argument. */
export function expect2d(fn: string, name: string, t: Tensor): Tensor {
  if (t.shape.length !== 2) fail(fn, `${name} must be 2-D, got shape [${t.shape.join(", ")}]`);
  return t;
}

// Allocation-free helpers for the contiguous fast paths (typed arrays count as contiguous 1-D tensors).
export function dataOf(x: TensorLike): FloatArray {
  return isFloatArray(x) ? x : x.data;
}

export function offsetOf(x: TensorLike): number {
  return isFloatArray(x) ? 0 : x.offset;
}

export function sizeOf(x: TensorLike): number {
  return isFloatArray(x) ? x.length : x.size;
}

function isFlat(x: TensorLike): boolean {
  return isFloatArray(x) || isContiguous(x);
}

function sameShape(x: TensorLike, y: TensorLike): boolean {
  if (isFloatArray(x) || isFloatArray(y)) {
    const dx = isFloatArray(x) ? 1 : x.shape.length;
    const dy = isFloatArray(y) ? 1 : y.shape.length;
    return dx === 1 && dy === 1 && sizeOf(x) === sizeOf(y);
  }
  if (x.shape.length !== y.shape.length) return false;
  for (let d = 0; d < x.shape.length; d++) if (x.shape[d] !== y.shape[d]) return false;
  return true;
}

/** True when out and a are contiguous with equal shapes: the caller may use one flat loop. */
export function flat2(out: TensorLike, a: TensorLike): boolean {
  return isFlat(out) && isFlat(a) && sameShape(out, a);
}

/** True when out, a and b are contiguous with equal shapes. */
export function flat3(out: TensorLike, a: TensorLike, b: TensorLike): boolean {
  return isFlat(out) && isFlat(a) && isFlat(b) && sameShape(out, a) && sameShape(out, b);
}
