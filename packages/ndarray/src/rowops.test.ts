import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Layout, layouts, randomMatrix, toRows } from "../test/helpers.js";
import { Rng } from "./rng.js";
import {
  argmaxRows,
  dot,
  norm,
  rowLogSumExp,
  rowMax,
  rowSum,
  softmaxRows,
  sumAxis0,
  sumAxis1,
} from "./rowops.js";
import { fromArray, zeros } from "./tensor.js";

const layoutArb = fc.constantFrom<Layout>(...layouts);
const shapeArb = fc.tuple(
  fc.integer({ min: 1, max: 12 }),
  fc.integer({ min: 1, max: 12 }),
  layoutArb,
  fc.integer(),
);

function close(actual: ArrayLike<number>, expected: number[], tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i] - expected[i])).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(expected[i])));
  }
}

describe("row ops match naive loops on every layout", () => {
  it("rowMax, rowSum, sumAxis1, rowLogSumExp, argmaxRows", () => {
    fc.assert(
      fc.property(shapeArb, ([n, m, layout, seed]) => {
        const a = randomMatrix(new Rng(seed), n, m, layout);
        const rows = toRows(a);
        close(
          rowMax(new Float32Array(n), a),
          rows.map((r) => Math.max(...r)),
        );
        close(
          rowSum(new Float32Array(n), a),
          rows.map((r) => r.reduce((s, v) => s + v, 0)),
        );
        close(
          sumAxis1(new Float64Array(n), a),
          rows.map((r) => r.reduce((s, v) => s + v, 0)),
        );
        close(
          rowLogSumExp(new Float64Array(n), a),
          rows.map((r) => Math.log(r.reduce((s, v) => s + Math.exp(v), 0))),
          1e-12,
        );
        const arg = argmaxRows(new Int32Array(n), a);
        expect(Array.from(arg)).toEqual(rows.map((r) => r.indexOf(Math.max(...r))));
      }),
      { numRuns: 80 },
    );
  });

  it("sumAxis0 sums columns into a strided 1-D out", () => {
    fc.assert(
      fc.property(shapeArb, ([n, m, layout, seed]) => {
        const a = randomMatrix(new Rng(seed), n, m, layout);
        const rows = toRows(a);
        const out = zeros([m, 2]).pick(null, 1); // stride-2 view
        sumAxis0(out, a);
        const got = Array.from({ length: m }, (_, j) => out.get(j));
        close(
          got,
          Array.from({ length: m }, (_, j) => rows.reduce((s, r) => s + r[j], 0)),
        );
      }),
      { numRuns: 80 },
    );
  });

  it("softmaxRows (also in place) sums to 1 and matches exp(x)/sum exp(x)", () => {
    fc.assert(
      fc.property(shapeArb, fc.boolean(), ([n, m, layout, seed], inPlace) => {
        const a = randomMatrix(new Rng(seed), n, m, layout);
        const rows = toRows(a);
        const out = inPlace ? a : zeros([n, m]);
        softmaxRows(out, a);
        for (let i = 0; i < n; i++) {
          const z = rows[i].reduce((s, v) => s + Math.exp(v), 0);
          close(
            toRows(out)[i],
            rows[i].map((v) => Math.exp(v) / z),
          );
        }
      }),
      { numRuns: 80 },
    );
  });

  it("softmaxRows with lse gives rowLogSumExp's bits and the same softmax, also on +-Infinity and NaN rows", () => {
    fc.assert(
      fc.property(shapeArb, fc.boolean(), fc.boolean(), ([n, m, layout, seed], inPlace, special) => {
        const a = randomMatrix(new Rng(seed), n, m, layout);
        if (special) {
          // one row each of +Infinity, all -Infinity and NaN, where both functions take their edge paths
          a.set(0, 0, Number.POSITIVE_INFINITY);
          if (n > 1) for (let j = 0; j < m; j++) a.set(1, j, Number.NEGATIVE_INFINITY);
          if (n > 2) a.set(2, m - 1, Number.NaN);
        }
        const expectedLse = rowLogSumExp(new Float32Array(n), a);
        const expected = softmaxRows(zeros([n, m]), a);
        const lse = new Float32Array(n);
        const out = inPlace ? a : zeros([n, m]);
        softmaxRows(out, a, lse);
        expect(Array.from(lse)).toEqual(Array.from(expectedLse));
        expect(toRows(out)).toEqual(toRows(expected));
      }),
      { numRuns: 80 },
    );
    expect(() => softmaxRows(zeros([3, 4]), zeros([3, 4]), new Float64Array(2))).toThrow(
      /softmaxRows: out must be 1-D of length 3/,
    );
  });

  it("softmax and logsumexp of logits around +-1e4 stay finite", () => {
    const a = fromArray([
      [1e4, -1e4, 0],
      [1e4, 1e4 - 1, 1e4 - 2],
      [-1e4, -1e4, -1e4 + 1],
    ]);
    const s = softmaxRows(zeros([3, 3]), a);
    for (const v of s.data) expect(Number.isFinite(v)).toBe(true);
    expect(s.get(0, 0)).toBe(1);
    expect(s.get(0, 1)).toBe(0);
    close(
      [s.get(1, 0), s.get(1, 1), s.get(1, 2)],
      [1, Math.exp(-1), Math.exp(-2)].map((v, _, _all) => v / (1 + Math.exp(-1) + Math.exp(-2))),
    );
    const l = rowLogSumExp(new Float64Array(3), a);
    close(
      l,
      [1e4, 1e4 + Math.log(1 + Math.exp(-1) + Math.exp(-2)), -1e4 + 1 + Math.log(1 + 2 * Math.exp(-1))],
      1e-7,
    );
    void 0;
  });

  it("dot and norm on contiguous and strided views", () => {
    fc.assert(
      fc.property(shapeArb, layoutArb, ([n, m, layout, seed], lb) => {
        const rng = new Rng(seed);
        const a = randomMatrix(rng, n, m, layout);
        const b = randomMatrix(rng, n, m, lb);
        const ra = toRows(a).flat();
        const rb = toRows(b).flat();
        close([dot(a, b)], [ra.reduce((s, v, i) => s + v * rb[i], 0)], 1e-12);
        close([norm(a)], [Math.sqrt(ra.reduce((s, v) => s + v * v, 0))], 1e-12);
      }),
      { numRuns: 80 },
    );
    expect(() => dot(zeros([2]), zeros([3]))).toThrow(/dot: shapes differ/);
  });

  it("rejects wrong output lengths with a named error", () => {
    expect(() => rowMax(new Float32Array(2), zeros([3, 4]))).toThrow(/rowMax: out must be 1-D of length 3/);
    expect(() => argmaxRows(new Int32Array(2), zeros([3, 4]))).toThrow(/argmaxRows/);
    expect(() => softmaxRows(zeros([3, 3]), zeros([3, 4]))).toThrow(/softmaxRows/);
  });
});
