// Plain float32 SGD (momentum 0, weightDecay 0) runs as @nabla/ndarray's axpy, native for long arrays. It must give
// the same bits as the documented per-element update w = fround(w + (-lr) * g) computed in double.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { param } from "../test/fixtures.js";
import { SGD } from "./sgd.js";

function referenceStep(w: Float32Array, g: Float32Array, lr: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) out[i] = Math.fround(w[i] + -lr * g[i]);
  return out;
}

function randomArray(length: number, seed: number, spread: number): Float32Array {
  const a = new Float32Array(length);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    a[i] = ((s >>> 0) / 2 ** 32 - 0.5) * spread;
  }
  return a;
}

describe("plain float32 SGD (the axpy path)", () => {
  it("equals the per-element reference bit for bit, short and long (native) parameters", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 7, 4095, 4096, 4097, 70_001),
        fc.integer({ min: 1, max: 2 ** 31 }),
        fc.double({ min: 1e-5, max: 2, noNaN: true }),
        (length, seed, lr) => {
          const w = randomArray(length, seed, 4);
          const g = randomArray(length, seed + 1, 1e3);
          const other = randomArray(33, seed + 2, 1);
          const expected = referenceStep(w, g, lr);
          const optimizer = new SGD([param("w", w, g), param("b", other, other.slice())], { lr });
          optimizer.step();
          expect(Buffer.from(w.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
          expect(w).not.toEqual(randomArray(length, seed, 4)); // the step did move the parameters
        },
      ),
      { numRuns: 40 },
    );
  });

  it("updates a subarray view in place without touching its neighbours", () => {
    const storage = randomArray(20_000, 5, 2);
    const before = storage.slice();
    const w = storage.subarray(3, 10_003);
    const g = randomArray(10_000, 6, 2);
    const expected = referenceStep(w, g, 0.1);
    new SGD([param("w", w, g)], { lr: 0.1 }).step();
    expect(Array.from(w)).toEqual(Array.from(expected));
    expect(Array.from(storage.subarray(0, 3))).toEqual(Array.from(before.subarray(0, 3)));
    expect(Array.from(storage.subarray(10_003))).toEqual(Array.from(before.subarray(10_003)));
  });

  it("leaves an infinite parameter infinite, as torch does when weightDecay is 0", () => {
    const w = new Float32Array(5000).fill(1);
    w[4321] = Number.POSITIVE_INFINITY;
    const g = new Float32Array(5000).fill(0.5);
    new SGD([param("w", w, g)], { lr: 0.1 }).step();
    expect(w[4321]).toBe(Number.POSITIVE_INFINITY);
    expect(w[0]).toBe(Math.fround(1 - 0.1 * 0.5));
  });

  it("a float32 parameter with weight decay still takes the general loop", () => {
    const w = randomArray(5000, 9, 2);
    const g = randomArray(5000, 10, 2);
    const expected = new Float32Array(w.length);
    for (let i = 0; i < w.length; i++) expected[i] = Math.fround(w[i] + -0.1 * (g[i] + 0.01 * w[i]));
    new SGD([param("w", w, g)], { lr: 0.1, weightDecay: 0.01 }).step();
    expect(Array.from(w)).toEqual(Array.from(expected));
  });
});
