import ndarray from "ndarray";
import { describe, expect, it } from "vitest";
import { randomMatrix, toRows } from "../test/helpers.js";
import { Rng } from "./rng.js";
import {
  arange,
  contiguous,
  fromArray,
  fromTypedArray,
  full,
  gatherRows,
  isContiguous,
  ones,
  reshape,
  sliceRows,
  toFloat32,
  toFloat64,
  transpose,
  zeros,
} from "./tensor.js";

describe("creation", () => {
  it("zeros/ones/full default to float32 and accept float64", () => {
    expect(zeros([2, 3]).data).toBeInstanceOf(Float32Array);
    expect(zeros([2, 3], "float64").data).toBeInstanceOf(Float64Array);
    expect(Array.from(ones([2, 2]).data)).toEqual([1, 1, 1, 1]);
    expect(Array.from(full([3], 2.5, "float64").data)).toEqual([2.5, 2.5, 2.5]);
    expect(zeros([2, 3]).shape).toEqual([2, 3]);
    expect(() => zeros([2, -1])).toThrow(/zeros: shape/);
    expect(() => zeros([2], "int8" as never)).toThrow(/dtype/);
  });

  it("fromArray copies nested and flat arrays", () => {
    const src = [
      [1, 2, 3],
      [4, 5, 6],
    ];
    const t = fromArray(src);
    expect(t.shape).toEqual([2, 3]);
    expect(t.get(1, 2)).toBe(6);
    src[0][0] = 99;
    expect(t.get(0, 0)).toBe(1);
    expect(fromArray([1, 2, 3, 4], [2, 2], "float64").get(1, 0)).toBe(3);
    expect(() => fromArray([1, 2, 3], [2, 2])).toThrow(/holds 4 values but 3/);
    expect(() => fromArray([[1, 2], [3]])).toThrow(/row 1/);
  });

  it("fromTypedArray wraps without copying", () => {
    const data = new Float32Array(6);
    const t = fromTypedArray(data, [3, 2]);
    data[5] = 7;
    expect(t.get(2, 1)).toBe(7);
    expect(() => fromTypedArray(data, [4, 2])).toThrow(/holds 8 values but the array has 6/);
  });

  it("arange follows numpy semantics", () => {
    expect(Array.from(arange(4).data)).toEqual([0, 1, 2, 3]);
    expect(Array.from(arange(1, 2, 0.25, "float64").data)).toEqual([1, 1.25, 1.5, 1.75]);
    expect(Array.from(arange(3, 0, -1).data)).toEqual([3, 2, 1]);
    expect(arange(3, 1).size).toBe(0);
    expect(() => arange(0, 1, 0)).toThrow(/step/);
  });
});

describe("views and copies", () => {
  it("transpose is a view; contiguous copies it in row-major order", () => {
    const t = fromArray([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const tt = transpose(t);
    expect(tt.data).toBe(t.data);
    expect(isContiguous(t)).toBe(true);
    expect(isContiguous(tt)).toBe(false);
    const c = contiguous(tt);
    expect(isContiguous(c)).toBe(true);
    expect(Array.from(c.data)).toEqual([1, 4, 2, 5, 3, 6]);
    expect(contiguous(t)).toBe(t);
    expect(() => transpose(zeros([2]))).toThrow(/2-D/);
  });

  it("reshape views contiguous data, infers -1, refuses strided views", () => {
    const t = arange(12);
    const r = reshape(t, [3, -1]);
    expect(r.shape).toEqual([3, 4]);
    expect(r.get(2, 1)).toBe(9);
    expect(r.data).toBe(t.data);
    expect(() => reshape(t, [5, -1])).toThrow(/infer/);
    expect(() => reshape(t, [5, 2])).toThrow(/cannot reshape 12/);
    expect(() => reshape(transpose(r), [12])).toThrow(/not contiguous/);
    const rows = reshape(sliceRows(r, 1, 3), [8]);
    expect(Array.from({ length: 8 }, (_, i) => rows.get(i))).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it("sliceRows is a view with checked bounds", () => {
    const t = reshape(arange(12), [4, 3]);
    const s = sliceRows(t, 1, 3);
    expect(toRows(s)).toEqual([
      [3, 4, 5],
      [6, 7, 8],
    ]);
    s.set(0, 0, -1);
    expect(t.get(1, 0)).toBe(-1);
    expect(sliceRows(t, 4, 4).shape).toEqual([0, 3]);
    expect(() => sliceRows(t, 2, 5)).toThrow(/end <= 4/);
  });

  it("toFloat32/toFloat64 make contiguous copies of strided views", () => {
    const rng = new Rng(1);
    for (const layout of ["transposed", "padded", "reversed"] as const) {
      const t = randomMatrix(rng, 5, 7, layout, "float64");
      const f32 = toFloat32(t);
      const f64 = toFloat64(t);
      expect(f32.data).toBeInstanceOf(Float32Array);
      expect(f64.data).toBeInstanceOf(Float64Array);
      expect(toRows(f64)).toEqual(toRows(t));
      expect(toRows(f32)).toEqual(toRows(t).map((r) => r.map(Math.fround)));
    }
  });

  it("gatherRows copies the indexed rows into a reused buffer, for contiguous and strided views", () => {
    const rng = new Rng(2);
    for (const layout of ["contiguous", "transposed", "padded"] as const) {
      const src = randomMatrix(rng, 10, 4, layout);
      const out = zeros([3, 4]);
      const idx = [7, 0, 7];
      gatherRows(out, src, idx);
      const rows = toRows(src);
      expect(toRows(out)).toEqual(idx.map((i) => rows[i]));
    }
    const src3 = ndarray(
      new Float32Array(24).map((_, i) => i),
      [4, 3, 2],
    );
    const out3 = zeros([2, 3, 2]);
    gatherRows(out3, src3, new Uint32Array([3, 1]));
    expect(Array.from(out3.data)).toEqual([18, 19, 20, 21, 22, 23, 6, 7, 8, 9, 10, 11]);
    expect(() => gatherRows(zeros([2, 4]), zeros([10, 4]), [1])).toThrow(/2 rows, expected 1/);
    expect(() => gatherRows(zeros([1, 4]), zeros([10, 4]), [10])).toThrow(/outside 0..9/);
    expect(() => gatherRows(zeros([1, 3]), zeros([10, 4]), [1])).toThrow(/row shape/);
  });
});
