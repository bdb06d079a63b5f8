import ndarray from "ndarray";
import type { DType, Rng, Tensor } from "../src/index.js";

export type Layout = "contiguous" | "transposed" | "padded" | "reversed";
export const layouts: Layout[] = ["contiguous", "transposed", "padded", "reversed"];

/**
 * A 2-D tensor of the given logical shape filled with uniform values in [-1, 1), stored in one of several
 * memory layouts: row-major, a transposed view of column-major storage, rows padded with junk columns at a
 * non-zero offset, or a view walking rows backwards (negative stride).
 */
export function randomMatrix(
  rng: Rng,
  rows: number,
  cols: number,
  layout: Layout,
  dtype: DType = "float32",
): Tensor {
  const make = (n: number) => (dtype === "float32" ? new Float32Array(n) : new Float64Array(n));
  let t: Tensor;
  if (layout === "contiguous") {
    t = ndarray(make(rows * cols), [rows, cols]);
  } else if (layout === "transposed") {
    t = ndarray(make(rows * cols), [cols, rows]).transpose(1, 0);
  } else if (layout === "padded") {
    const ld = cols + 3;
    const data = make(5 + rows * ld);
    data.fill(Number.NaN); // junk must never be read
    t = ndarray(data, [rows, cols], [ld, 1], 5);
  } else {
    t = ndarray(make(rows * cols), [rows, cols]).step(-1, 1);
  }
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t.set(i, j, rng.uniform() * 2 - 1);
  return t;
}

/** Row-major float64 copy of a 2-D view, via get() only (independent of the package's copy routines). */
export function toRows(t: Tensor): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < t.shape[0]; i++) {
    const row: number[] = [];
    for (let j = 0; j < t.shape[1]; j++) row.push(t.get(i, j));
    out.push(row);
  }
  return out;
}
