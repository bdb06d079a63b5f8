/**
 * Copies between 2-D views and the WebAssembly heap, whole or one block of rows and columns at a time, so the
 * GEMM can start its helper thread as soon as the helper's operands are in and copy the rest meanwhile. A view
 * keeps its orientation in the heap when one of its strides is 1 ("column-major" when its rows are the unit
 * stride), so transposed and padded views are copied as-is and the kernel reads them through strides.
 */
import type { FloatArray, Tensor } from "../tensor.js";

/** Whether `t` is laid out column-major in the heap (else row-major, leading dimension = its columns). */
export function columnMajorInHeap(t: Tensor, rowMajorOnly: boolean): boolean {
  const [, c] = t.shape;
  const [s0, s1] = t.stride;
  return !(s1 === 1 || c === 1) && s0 === 1 && !rowMajorOnly;
}

/** Element strides (row, column) of `t`'s copy in the heap. */
export function heapStrides(t: Tensor, columnMajor: boolean): [number, number] {
  return columnMajor ? [1, t.shape[0]] : [t.shape[1], 1];
}

/** Copies rows [r0, r1) x columns [c0, c1) of `t` to where a whole copy at element `d` would put them. */
export function copyIn(
  heap: Float32Array,
  t: Tensor,
  d: number,
  columnMajor: boolean,
  r0: number,
  r1: number,
  c0: number,
  c1: number,
): void {
  const [r, c] = t.shape;
  const [s0, s1] = t.stride;
  const src: FloatArray = t.data;
  const o = t.offset;
  if (r1 <= r0 || c1 <= c0) return;
  if (columnMajor) {
    for (let j = c0; j < c1; j++) heap.set(src.subarray(o + j * s1 + r0, o + j * s1 + r1), d + j * r + r0);
  } else if (s1 === 1 || c === 1) {
    if ((s0 === c || r === 1) && c0 === 0 && c1 === c) {
      heap.set(src.subarray(o + r0 * s0, o + r0 * s0 + (r1 - r0) * c), d + r0 * c);
    } else {
      for (let i = r0; i < r1; i++) heap.set(src.subarray(o + i * s0 + c0, o + i * s0 + c1), d + i * c + c0);
    }
  } else {
    for (let i = r0; i < r1; i++)
      for (let j = c0; j < c1; j++) heap[d + i * c + j] = src[o + i * s0 + j * s1];
  }
}

/** Copies rows [r0, r1) x columns [c0, c1) of the row-major m x n result at element `s` into C. */
export function copyOut(
  heap: Float32Array,
  C: Tensor,
  s: number,
  r0: number,
  r1: number,
  c0: number,
  c1: number,
): void {
  const [, n] = C.shape;
  const [s0, s1] = C.stride;
  const out = C.data;
  if (s1 === 1 || n === 1) {
    for (let i = r0; i < r1; i++)
      out.set(heap.subarray(s + i * n + c0, s + i * n + c1), C.offset + i * s0 + c0);
    return;
  }
  for (let i = r0; i < r1; i++)
    for (let j = c0; j < c1; j++) out[C.offset + i * s0 + j * s1] = heap[s + i * n + j];
}
