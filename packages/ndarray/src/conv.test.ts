import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import {
  abs,
  type Geometry,
  geometryArb,
  type Inputs,
  inputs,
  PROPERTY,
  planOf,
  run,
  uniform,
} from "../test/conv-helpers.js";
import {
  Conv2dPlan,
  conv2dBackwardInput,
  conv2dBackwardWeight,
  conv2dForward,
  conv2dPlan,
  setConvNative,
} from "./conv.js";
import { conv2dReference, conv2dReferenceBackward } from "./conv-reference.js";
import { NdarrayError } from "./errors.js";
import { type GemmKernel, gemmKernelInfo, setGemmKernel } from "./gemm/index.js";
import { Rng } from "./rng.js";
import { type DType, fromArray, fromTypedArray, type Tensor, zeros } from "./tensor.js";

/**
 * |got − ref| ≤ tol · (Σ |terms| + |offset|) per entry: the standard bound for a float dot product, relative
 * to the magnitudes summed, so cancellation in the result cannot fail a correct kernel.
 */
function expectWithin(got: Tensor, ref: Tensor, magnitude: Tensor, tol: number, what: string): void {
  let worst = 0;
  for (let i = 0; i < ref.size; i++) {
    const err = Math.abs(got.data[i] - ref.data[i]) / (magnitude.data[i] + 1e-30);
    if (!(err <= worst)) worst = err;
  }
  expect(worst, what).toBeLessThanOrEqual(tol);
}

const referenceCache = new Map<string, ReturnType<typeof computeReferences>>();

function computeReferences(g: Geometry, p: Inputs) {
  const opts = { stride: g.stride, padding: g.padding, dilation: g.dilation };
  return {
    ref: conv2dReference(p.x, p.w, p.b, opts),
    mag: conv2dReference(abs(p.x), abs(p.w), p.b ? abs(p.b) : null, opts),
    back: conv2dReferenceBackward(p.x, p.w, p.dy, opts),
    backMag: conv2dReferenceBackward(abs(p.x), abs(p.w), abs(p.dy), opts),
  };
}

/** The reference results (and magnitudes) of the same inputs, computed once for every kernel that is checked. */
function references(g: Geometry, dtype: DType, p: Inputs) {
  const key = JSON.stringify([g, dtype]);
  let r = referenceCache.get(key);
  if (r === undefined) {
    r = computeReferences(g, p);
    referenceCache.set(key, r);
  }
  return r;
}

function compareToReference(g: Geometry, dtype: DType, tol: number, accumulate: boolean): void {
  const p = inputs(g, dtype);
  const rng = new Rng(g.seed + 1);
  const start = accumulate
    ? {
        dx: uniform(rng, p.x.shape, dtype),
        dw: uniform(rng, p.w.shape, dtype),
        db: uniform(rng, [g.o], dtype),
      }
    : undefined;
  const dx0 = start ? fromArray(Array.from(start.dx.data), p.x.shape.slice(), "float64") : null;
  const dw0 = start ? fromArray(Array.from(start.dw.data), p.w.shape.slice(), "float64") : null;
  const db0 = start ? fromArray(Array.from(start.db.data), [g.o], "float64") : null;
  const got = run(p, start);
  const { ref, mag, back, backMag } = references(g, dtype, p);
  expectWithin(got.y, ref, mag, tol, "y");
  const plus = (t: Tensor, t0: Tensor | null) =>
    t0
      ? fromArray(
          Array.from(t.data, (v, i) => v + t0.data[i]),
          t.shape.slice(),
          "float64",
        )
      : t;
  expectWithin(got.dx, plus(back.dx, dx0), plus(backMag.dx, dx0 && abs(dx0)), tol, "dx");
  expectWithin(got.dw, plus(back.dweight, dw0), plus(backMag.dweight, dw0 && abs(dw0)), tol, "dweight");
  expectWithin(got.db, plus(back.dbias, db0), plus(backMag.dbias, db0 && abs(db0)), tol, "dbias");
}

describe("conv2dReference", () => {
  it("computes a small example by hand (padding 1, stride 2)", () => {
    const x = fromArray([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3], "float64");
    const w = fromArray([1, 0, 0, 0, 0, 0, 0, 0, -1], [1, 1, 3, 3], "float64");
    const y = conv2dReference(x, w, fromArray([0.5], [1], "float64"), { padding: 1, stride: 2 });
    // y[oh][ow] = x[2oh − 1][2ow − 1] − x[2oh + 1][2ow + 1] + 0.5 (zeros outside)
    expect(Array.from(y.data)).toEqual([-4.5, 0.5, 0.5, 5.5]);
  });

  it("its backward is the adjoint of the forward: ⟨y(x, w), dy⟩ = ⟨x, dx⟩ = ⟨w, dw⟩, and Σ dy = db", () => {
    fc.assert(
      fc.property(geometryArb, (g) => {
        const p = inputs(g, "float64");
        const opts = { stride: g.stride, padding: g.padding, dilation: g.dilation };
        const y = conv2dReference(p.x, p.w, null, opts);
        const back = conv2dReferenceBackward(p.x, p.w, p.dy, opts);
        const dot = (a: Tensor, b: Tensor) => Array.from(a.data).reduce((s, v, i) => s + v * b.data[i], 0);
        const yDy = dot(y, p.dy);
        const scale = 1e-12 * (1 + Math.abs(yDy) + y.size);
        expect(Math.abs(dot(p.x, back.dx) - yDy)).toBeLessThan(scale);
        expect(Math.abs(dot(p.w, back.dweight) - yDy)).toBeLessThan(scale);
        const perChannel = p.dy.size / g.o / g.n;
        for (let o = 0; o < g.o; o++) {
          let s = 0;
          for (let i = 0; i < g.n; i++)
            for (let t = 0; t < perChannel; t++) s += p.dy.data[(i * g.o + o) * perChannel + t];
          expect(back.dbias.data[o]).toBeCloseTo(s, 12);
        }
      }),
      PROPERTY,
    );
  });
});

describe("conv2d against the reference", () => {
  afterAll(() => {
    setGemmKernel("auto");
    setConvNative(true);
  });

  it("float64: random shapes, strides, padding, dilation, batch and channels, tight", () => {
    fc.assert(
      fc.property(geometryArb, fc.boolean(), (g, accumulate) =>
        compareToReference(g, "float64", 1e-14, accumulate),
      ),
      PROPERTY,
    );
  });

  const kernels = ["auto", ...gemmKernelInfo().available] as GemmKernel[];
  for (const kernel of kernels) {
    for (const native of [true, false]) {
      if (!native && kernel !== "native") continue;
      it(`float32 on ${kernel}${native ? "" : " (JavaScript loop)"}: random geometries, overwrite and accumulate`, () => {
        setGemmKernel(kernel);
        setConvNative(native);
        fc.assert(
          fc.property(geometryArb, fc.boolean(), (g, accumulate) =>
            compareToReference(g, "float32", 1e-5, accumulate),
          ),
          PROPERTY,
        );
      });
    }
    it(`float32 on ${kernel}: several tiles per sample, uneven sample groups, k over the GEMM's k block`, () => {
      setGemmKernel(kernel);
      setConvNative(true);
      // [n, c, o, h, w, kernel, stride, padding, dilation]
      const cases: [number, number, number, number, number, number[], number[], number[], number[]][] = [
        [9, 32, 5, 20, 20, [3, 3], [1, 1], [1, 1], [1, 1]],
        [5, 30, 7, 57, 23, [3, 3], [2, 1], [2, 0], [1, 2]],
        [3, 70, 3, 40, 40, [2, 2], [1, 3], [0, 1], [3, 1]],
        [2, 64, 4, 12, 64, [3, 3], [1, 1], [1, 1], [1, 1]],
      ];
      for (const [n, c, o, h, w, kernel, stride, padding, dilation] of cases) {
        const g = { n, c, o, h, w, kernel, stride, padding, dilation } as Omit<Geometry, "bias" | "seed">;
        const plan = planOf({ ...g, bias: true, seed: 0 });
        expect(Math.ceil(plan.outHeight / plan.rowsPerTile), "tiles").toBeGreaterThan(1);
        compareToReference({ ...g, bias: true, seed: 3 }, "float32", 1e-5, true);
      }
    });
  }
});

describe("conv2d errors", () => {
  const plan = conv2dPlan({ inShape: [3, 8, 8], outChannels: 4, kernel: 3, padding: 1 });
  const x = zeros([2, 3, 8, 8]);
  const w = zeros([4, 3, 3, 3]);
  const y = zeros([2, 4, 8, 8]);

  it("plans: one-line NdarrayErrors for bad geometry", () => {
    expect(() => conv2dPlan({ inShape: [3, 8], outChannels: 4, kernel: 3 })).toThrow(
      "@nabla/ndarray conv2dPlan: inShape must be [channels, height, width] of positive integers, got [3,8]",
    );
    expect(() => conv2dPlan({ inShape: [3, 3, 3], outChannels: 4, kernel: 5 })).toThrow(
      "kernel 5×5 (dilation 1×1) with padding 0×0 does not fit a 3×3 input",
    );
    expect(() => conv2dPlan({ inShape: [3, 8, 8], outChannels: 4, kernel: 3, stride: 0 })).toThrow(
      /stride must be an integer >= 1/,
    );
    expect(() => conv2dPlan({ inShape: [3, 8, 8], outChannels: 4, kernel: 3, padding: [1, -1] })).toThrow(
      /padding must be/,
    );
    expect(() => conv2dPlan({ inShape: [3, 8, 8], outChannels: 0, kernel: 3 })).toThrow(/outChannels/);
    expect(plan).toBeInstanceOf(Conv2dPlan);
  });

  it("passes: shapes, dtypes, contiguity, overlap and beta", () => {
    expect(() => conv2dForward(plan, zeros([2, 4, 8, 8]), w, null, y)).toThrow(
      "@nabla/ndarray conv2dForward: x must have shape [N, 3, 8, 8], got [2, 4, 8, 8]",
    );
    expect(() => conv2dForward(plan, x, zeros([4, 3, 3, 2]), null, y)).toThrow(
      /weight must have shape \[4, 3, 3, 3\]/,
    );
    expect(() => conv2dForward(plan, x, w, zeros([5]), y)).toThrow(/bias must have shape \[4\]/);
    expect(() => conv2dForward(plan, x, w, null, zeros([3, 4, 8, 8]))).toThrow(
      /out must have shape \[2, 4, 8, 8\]/,
    );
    expect(() => conv2dForward(plan, x, zeros([4, 3, 3, 3], "float64"), null, y)).toThrow(
      /weight is float64 but the input is float32/,
    );
    expect(() => conv2dForward(plan, x, w, null, zeros([2, 8, 8, 4]).transpose(0, 3, 1, 2))).toThrow(
      /out must be contiguous/,
    );
    expect(() => conv2dBackwardInput(plan, y, w, x, 2 as never)).toThrow(/beta must be 0 \(overwrite\) or 1/);
    // Two views into one buffer: the output may not overlap an input.
    const buffer = new Float32Array(2 * 4 * 8 * 8 + 2 * 3 * 8 * 8);
    const out = fromTypedArray(buffer.subarray(0, 512), [2, 4, 8, 8]);
    const overlapping = fromTypedArray(buffer.subarray(100, 100 + 384), [2, 3, 8, 8]);
    const apart = fromTypedArray(buffer.subarray(512), [2, 3, 8, 8]);
    expect(() => conv2dForward(plan, overlapping, w, null, out)).toThrow(
      "@nabla/ndarray conv2dForward: out overlaps x in memory; use a separate buffer",
    );
    expect(() => conv2dForward(plan, apart, w, null, out)).not.toThrow();
    expect(() => conv2dBackwardInput(plan, out, w, overlapping)).toThrow(/dx overlaps dy/);
    expect(() => conv2dBackwardWeight(plan, x, zeros([2, 4, 7, 8]), zeros(w.shape), null)).toThrow(
      /dy must have shape \[2, 4, 8, 8\]/,
    );
    expect(() => conv2dBackwardWeight(plan, x, y, zeros([4, 3, 3, 3]), zeros([3]))).toThrow(NdarrayError);
  });
});
