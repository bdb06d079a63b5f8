/**
 * Small tensor helpers shared by the modules: dtype detection, shape checks and the
 * per-shape buffer cache that lets a training step run without allocating.
 */
import {
  contiguous,
  type DType,
  isContiguous,
  isFloatArray,
  reshape,
  dtypeOf as storageDtype,
  type Tensor,
} from "@nabla/ndarray";
import { fail, NnError } from "./errors.js";

/**
 * ndarray's dtypeOf, after checking the storage really is a float array: ndarray's answers "float32" for
 * anything that is not a Float64Array, and a module fed, say, an Int32Array must say so instead.
 */
export function dtypeOf(t: Tensor, where: string): DType {
  if (!isFloatArray(t.data)) throw new NnError(`${where}: expected a Float32Array or Float64Array tensor`);
  return storageDtype(t);
}

/** Asserts `t` is a 2-D [rows, cols] tensor (cols checked when given) and returns its row count. */
export function expect2d(t: Tensor, where: string, cols?: number): number {
  if (t.shape.length !== 2) fail(where, `expected a 2-D [batch, features] tensor, got shape [${t.shape}]`);
  if (!(t.shape[0] >= 1)) fail(where, `expected at least one row, got shape [${t.shape}]`);
  if (cols !== undefined) {
    if (t.shape[1] !== cols) fail(where, `expected ${cols} columns, got shape [${t.shape}]`);
  }
  return t.shape[0];
}

/** Asserts `t` has the given dtype. */
export function expectDtype(t: Tensor, dtype: DType, where: string): void {
  const actual = dtypeOf(t, where);
  if (actual !== dtype) fail(where, `expected a ${dtype} tensor, got ${actual}`);
}

/** Asserts two tensors have the same shape. */
export function expectSameShape(a: Tensor, b: Tensor, where: string, what: string): void {
  let same = a.shape.length === b.shape.length;
  for (let i = 0; same && i < a.shape.length; i++) same = a.shape[i] === b.shape[i];
  if (!same) fail(where, `${what} must have shape [${b.shape}], got [${a.shape}]`);
}

/**
 * Asserts `t` is a batch `[N, ...sample]` (N ≥ 1; the sample shape checked when given) and returns N. Tensors
 * flow between layers in PyTorch's layout: `[N, features]` for flat data, `[N, C, H, W]` for images.
 */
export function expectBatch(t: Tensor, where: string, sample?: readonly number[]): number {
  if (t.shape.length < 2) fail(where, `expected a batch [N, ...sample], got shape [${t.shape}]`);
  if (!(t.shape[0] >= 1)) fail(where, `expected at least one sample, got shape [${t.shape}]`);
  if (sample !== undefined) {
    let same = t.shape.length === sample.length + 1;
    for (let i = 0; same && i < sample.length; i++) same = t.shape[i + 1] === sample[i];
    if (!same) fail(where, `expected shape [N, ${sample.join(", ")}], got [${t.shape}]`);
  }
  return t.shape[0];
}

/**
 * A batch of any shape as [N, values per sample] (a view when contiguous, as every layer's output is), for
 * layers that read each sample flat: Linear, BatchNorm1d and Softmax read a [C, H, W] sample as its C·H·W
 * values in row-major order, exactly what "flatten" before them would give.
 */
export function asRows(t: Tensor): Tensor {
  if (t.shape.length === 2) return t;
  const rows = t.shape[0];
  const flat = isContiguous(t) ? t : contiguous(t);
  return reshape(flat, [rows, flat.size / rows]);
}

/** `t` (a [N, values] buffer) viewed in the shape of the batch `like`. */
export function inShapeOf(t: Tensor, like: Tensor): Tensor {
  return like.shape.length === 2 ? t : reshape(t, [...like.shape]);
}

/** Product of a shape's dimensions (1 for []). */
export function sizeOfShape(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Buffers keyed by (shape, dtype). Training uses one batch size (plus possibly a smaller last evaluation
 * batch), so a handful of entries cover every call; the most recent entry is checked first, so the steady
 * state is a few integer comparisons and no allocation. Old entries are evicted beyond `capacity` so odd
 * batch sizes cannot grow memory without bound.
 */
export class BufferCache<B> {
  private entries: { shape: number[]; dtype: DType; buffers: B }[] = [];

  constructor(
    private readonly create: (shape: readonly number[], dtype: DType) => B,
    private readonly capacity = 4,
  ) {}

  get(shape: readonly number[], dtype: DType): B {
    const entries = this.entries;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      if (e.dtype === dtype && sameDims(e.shape, shape)) {
        if (i !== 0) {
          // Move to the front so the common case is found on the first comparison.
          entries.splice(i, 1);
          entries.unshift(e);
        }
        return e.buffers;
      }
    }
    const key = [...shape];
    const buffers = this.create(key, dtype);
    entries.unshift({ shape: key, dtype, buffers });
    if (entries.length > this.capacity) entries.pop();
    return buffers;
  }

  /** Number of cached shapes (for tests). */
  get size(): number {
    return this.entries.length;
  }
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
