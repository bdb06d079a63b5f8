import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { type Layout, layouts, randomMatrix, toRows } from "../../test/helpers.js";
import { Rng } from "../rng.js";
import { fromArray, sliceRows, type Tensor, transpose, zeros } from "../tensor.js";
import { gemm, gemmKernelInfo, gemmReference, matmul, setGemmKernel } from "./index.js";

const layoutArb = fc.constantFrom<Layout>(...layouts);

/** Independent float64 GEMM on row arrays (get()-based), for checking the reference kernel itself. */
function naive(
  tA: boolean,
  tB: boolean,
  alpha: number,
  A: number[][],
  B: number[][],
  beta: number,
  C: number[][],
) {
  const a = tA ? A[0].map((_, j) => A.map((r) => r[j])) : A;
  const b = tB ? B[0].map((_, j) => B.map((r) => r[j])) : B;
  return C.map((row, i) =>
    row.map((c, j) => alpha * a[i].reduce((s, v, p) => s + v * b[p][j], 0) + (beta === 0 ? 0 : beta * c)),
  );
}

/**
 * Error metric for float32 kernels: |C - C_ref| <= 1e-5 * (|alpha| sum_p |a_ip||b_pj| + |beta||C0_ij|) + 1e-30,
 * i.e. relative to the magnitude of the terms summed (the standard bound for a dot product's rounding error),
 * so cancellation in C itself does not make a correct kernel fail.
 */
function expectGemmClose(
  tA: boolean,
  tB: boolean,
  alpha: number,
  A: Tensor,
  B: Tensor,
  beta: number,
  C0: number[][],
  C: Tensor,
) {
  const a = toRows(A);
  const b = toRows(B);
  const absA = a.map((r) => r.map(Math.abs));
  const absB = b.map((r) => r.map(Math.abs));
  const ref = naive(tA, tB, alpha, a, b, beta, C0);
  const mag = naive(
    tA,
    tB,
    Math.abs(alpha),
    absA,
    absB,
    Math.abs(beta),
    C0.map((r) => r.map(Math.abs)),
  );
  const got = toRows(C);
  let worst = 0;
  for (let i = 0; i < ref.length; i++) {
    for (let j = 0; j < ref[0].length; j++) {
      const err = Math.abs(got[i][j] - ref[i][j]) / (mag[i][j] + 1e-30);
      if (!(err <= worst)) worst = err; // NaN lands here too
    }
  }
  expect(worst).toBeLessThanOrEqual(1e-5);
}

describe("gemmReference", () => {
  it("computes a small product by hand", () => {
    const A = fromArray([
      [1, 2],
      [3, 4],
    ]);
    const B = fromArray([
      [5, 6],
      [7, 8],
    ]);
    expect(toRows(matmul(A, B))).toEqual([
      [19, 22],
      [43, 50],
    ]);
    const C = fromArray([
      [1, 1],
      [1, 1],
    ]);
    gemmReference(true, false, 2, A, B, -1, C); // 2 A^T B - 1
    expect(toRows(C)).toEqual([
      [2 * 26 - 1, 2 * 30 - 1],
      [2 * 38 - 1, 2 * 44 - 1],
    ]);
  });

  it("matches an independent naive GEMM for every transpose combination, layout, alpha/beta (float64)", () => {
    fc.assert(
      fc.property(
        fc.record({
          m: fc.integer({ min: 1, max: 13 }),
          n: fc.integer({ min: 1, max: 13 }),
          k: fc.integer({ min: 1, max: 13 }),
          tA: fc.boolean(),
          tB: fc.boolean(),
          la: layoutArb,
          lb: layoutArb,
          lc: layoutArb,
          alpha: fc.constantFrom(1, -0.5, 2),
          beta: fc.constantFrom(0, 1, 0.25),
          seed: fc.integer(),
        }),
        ({ m, n, k, tA, tB, la, lb, lc, alpha, beta, seed }) => {
          const rng = new Rng(seed);
          const A = tA ? randomMatrix(rng, k, m, la, "float64") : randomMatrix(rng, m, k, la, "float64");
          const B = tB ? randomMatrix(rng, n, k, lb, "float64") : randomMatrix(rng, k, n, lb, "float64");
          const C = randomMatrix(rng, m, n, lc, "float64");
          const C0 = toRows(C);
          gemmReference(tA, tB, alpha, A, B, beta, C);
          const ref = naive(tA, tB, alpha, toRows(A), toRows(B), beta, C0);
          const got = toRows(C);
          for (let i = 0; i < m; i++)
            for (let j = 0; j < n; j++) expect(got[i][j]).toBeCloseTo(ref[i][j], 12);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("beta = 0 ignores NaN already in C (BLAS convention)", () => {
    const C = fromArray([[Number.NaN]]);
    gemmReference(false, false, 1, fromArray([[2]]), fromArray([[3]]), 0, C);
    expect(C.get(0, 0)).toBe(6);
  });

  it("rejects mismatched shapes with a one-line error", () => {
    expect(() => gemm(false, false, 1, zeros([2, 3]), zeros([4, 5]), 0, zeros([2, 5]))).toThrow(
      /gemm: inner dimensions differ: op\(A\) is 2x3, op\(B\) is 4x5/,
    );
    expect(() => gemm(false, true, 1, zeros([2, 3]), zeros([4, 3]), 0, zeros([2, 5]))).toThrow(
      /C has shape \[2, 5\], expected \[2, 4\]/,
    );
    expect(() => gemm(false, false, 1, zeros([2]), zeros([2, 2]), 0, zeros([2, 2]))).toThrow(/A must be 2-D/);
    const big = zeros([4, 4]);
    expect(() => gemm(false, false, 1, big, zeros([4, 4]), 0, big)).toThrow(/C overlaps A/);
    expect(() => gemm(false, false, 1, zeros([2, 4]), transpose(big), 0, sliceRows(big, 2, 4))).toThrow(
      /C overlaps B/,
    );
    // Disjoint row blocks of one buffer are fine.
    gemm(false, false, 1, sliceRows(big, 0, 2).hi(2, 2), zeros([2, 4]), 0, sliceRows(big, 2, 4));
  });
});

/** Every float32 kernel that loaded on this machine, checked against the reference over random shapes 1..300. */
describe("gemm kernels vs the reference", () => {
  afterAll(() => setGemmKernel("auto"));
  const kernels = ["auto", ...gemmKernelInfo().available] as const;
  for (const kernel of kernels) {
    it(`${kernel}: random shapes 1..300, all transposes, alpha/beta, strided views`, () => {
      setGemmKernel(kernel as never);
      fc.assert(
        fc.property(
          fc.record({
            m: fc.integer({ min: 1, max: 300 }),
            n: fc.integer({ min: 1, max: 300 }),
            k: fc.integer({ min: 1, max: 300 }),
            tA: fc.boolean(),
            tB: fc.boolean(),
            la: layoutArb,
            lb: layoutArb,
            lc: layoutArb,
            alpha: fc.constantFrom(1, -0.5, 2),
            beta: fc.constantFrom(0, 1, -0.25),
            seed: fc.integer(),
          }),
          ({ m, n, k, tA, tB, la, lb, lc, alpha, beta, seed }) => {
            const rng = new Rng(seed);
            const A = tA ? randomMatrix(rng, k, m, la) : randomMatrix(rng, m, k, la);
            const B = tB ? randomMatrix(rng, n, k, lb) : randomMatrix(rng, k, n, lb);
            const C = randomMatrix(rng, m, n, lc);
            const C0 = toRows(C);
            gemm(tA, tB, alpha, A, B, beta, C);
            expectGemmClose(tA, tB, alpha, A, B, beta, C0, C);
          },
        ),
        { numRuns: 25 },
      );
    });
  }

  for (const kernel of kernels) {
    it(`${kernel}: panels wider than the column block (n = 3100) and deeper than the k block`, () => {
      setGemmKernel(kernel as never);
      const rng = new Rng(11);
      for (const [m, n, k, tA, tB] of [
        [13, 3100, 300, false, true],
        [7, 3100, 520, true, false],
      ] as const) {
        const A = tA ? randomMatrix(rng, k, m, "padded") : randomMatrix(rng, m, k, "contiguous");
        const B = tB ? randomMatrix(rng, n, k, "contiguous") : randomMatrix(rng, k, n, "transposed");
        const C = randomMatrix(rng, m, n, "padded");
        const C0 = toRows(C);
        gemm(tA, tB, 1.5, A, B, 0.5, C);
        expectGemmClose(tA, tB, 1.5, A, B, 0.5, C0, C);
      }
    });
  }

  it("gemmKernelInfo names the kernel and setGemmKernel rejects unknown names", () => {
    expect(typeof gemmKernelInfo().kernel).toBe("string");
    expect(() => setGemmKernel("gpu" as never)).toThrow(/setGemmKernel: kernel must be one of/);
  });
});
