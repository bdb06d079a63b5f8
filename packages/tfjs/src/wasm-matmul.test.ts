import * as tf from "@tensorflow/tfjs-core";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prng, relDiff } from "../test/reference.js";
import { setWasmMatMulMode, useBackend, wasmMatMulMode } from "./index.js";

/** Naive float64 batched product with TF.js's flags and batch broadcasting (batch dims of 1 broadcast). */
function naiveMatMul(
  a: Float32Array,
  aShape: number[],
  b: Float32Array,
  bShape: number[],
  ta: boolean,
  tb: boolean,
): Float64Array {
  const [ar, ac] = aShape.slice(-2);
  const [br, bc] = bShape.slice(-2);
  const m = ta ? ac : ar;
  const k = ta ? ar : ac;
  const n = tb ? br : bc;
  const batchA = aShape.length === 3 ? aShape[0] : 1;
  const batchB = bShape.length === 3 ? bShape[0] : 1;
  const batch = Math.max(batchA, batchB);
  const out = new Float64Array(batch * m * n);
  for (let t = 0; t < batch; t++) {
    const ao = (batchA === 1 ? 0 : t) * ar * ac;
    const bo = (batchB === 1 ? 0 : t) * br * bc;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const av = ta ? a[ao + p * ac + i] : a[ao + i * ac + p];
          const bv = tb ? b[bo + j * bc + p] : b[bo + p * bc + j];
          s += av * bv;
        }
        out[t * m * n + i * n + j] = s;
      }
    }
  }
  return out;
}

const caseArb = fc.record({
  m: fc.integer({ min: 1, max: 20 }),
  k: fc.integer({ min: 1, max: 20 }),
  n: fc.integer({ min: 1, max: 20 }),
  batch: fc.constantFrom<[number, number]>([0, 0], [3, 3], [3, 1], [1, 3], [2, 0], [0, 2]),
  ta: fc.boolean(),
  tb: fc.boolean(),
  seed: fc.integer({ min: 0, max: 1e9 }),
});

describe("wasm BatchMatMul shim (explicit transpose + XNNPACK)", () => {
  beforeAll(async () => {
    const info = await useBackend("wasm");
    expect(info.backendName).toBe("wasm");
  });
  afterAll(() => setWasmMatMulMode("stock"));

  it("equals a naive float64 product for every transpose flag and batch broadcast, in both modes", () => {
    fc.assert(
      fc.property(caseArb, ({ m, k, n, batch, ta, tb, seed }) => {
        const rand = prng(seed);
        const shapeOf = (rows: number, cols: number, bt: number) =>
          bt === 0 ? [rows, cols] : [bt, rows, cols];
        const aShape = shapeOf(ta ? k : m, ta ? m : k, batch[0]);
        const bShape = shapeOf(tb ? n : k, tb ? k : n, batch[1]);
        const a = Float32Array.from({ length: aShape.reduce((x, y) => x * y, 1) }, () => 2 * rand() - 1);
        const b = Float32Array.from({ length: bShape.reduce((x, y) => x * y, 1) }, () => 2 * rand() - 1);
        const want = naiveMatMul(a, aShape, b, bShape, ta, tb);
        for (const mode of ["explicit-transpose", "stock"] as const) {
          setWasmMatMulMode(mode);
          const ids = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
          const got = tf.tidy(() => tf.matMul(tf.tensor(a, aShape), tf.tensor(b, bShape), ta, tb).dataSync());
          expect(relDiff(got, want)).toBeLessThan(1e-5);
          // the shim's transposed temporaries are freed
          expect((tf.backend() as unknown as { numDataIds(): number }).numDataIds()).toBe(ids);
        }
      }),
      { numRuns: 60, seed: 7 },
    );
  });

  it("switches modes and reports the current one", () => {
    setWasmMatMulMode("explicit-transpose");
    expect(wasmMatMulMode()).toBe("explicit-transpose");
    setWasmMatMulMode("stock");
    expect(wasmMatMulMode()).toBe("stock");
    expect(() => setWasmMatMulMode("fast" as never)).toThrow(/mode must be/);
  });
});
