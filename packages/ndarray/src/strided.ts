import { fail } from "./errors.js";
import { asTensor, isContiguous, type Tensor, type TensorLike } from "./tensor.js";

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
