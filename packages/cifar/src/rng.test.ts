import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { deriveEpochSeed, mix32, SeededRng } from "./rng.js";

// Reference values from an independent Python implementation of SplitMix32 seeding + xoshiro128**.
describe("SeededRng", () => {
  it("matches the reference stream", () => {
    const draw = (seed: number) => {
      const rng = new SeededRng(seed);
      return Array.from({ length: 5 }, () => rng.nextUint32());
    };
    expect(draw(0)).toEqual([3809008728, 1133695204, 53579671, 2891528803, 139681546]);
    expect(draw(42)).toEqual([2837322924, 544945897, 479756282, 3500138142, 339756180]);
    expect(draw(4294967295)).toEqual([835879718, 1921286648, 2356205009, 1885780724, 980451116]);
  });

  it("matches the reference Fisher–Yates permutation and epoch seeds", () => {
    expect(Array.from(new SeededRng(42).permutation(10))).toEqual([3, 6, 8, 7, 5, 0, 9, 2, 1, 4]);
    expect([0, 1, 2].map((e) => deriveEpochSeed(42, e))).toEqual([310834301, 4213354605, 2761216331]);
  });

  it("permutation is a permutation, for any seed and size", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 500 }), (seed, n) => {
        const p = new SeededRng(seed).permutation(n);
        expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
      }),
      { numRuns: 100 },
    );
  });

  it("nextBelow stays in range and is roughly uniform (chi-square, 10 bins)", () => {
    const rng = new SeededRng(7);
    const counts = new Array(10).fill(0);
    const n = 100_000;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const v = rng.nextBelow(10);
      if (!(v >= 0 && v < 10 && Number.isInteger(v))) outside++;
      else counts[v]++;
    }
    expect(outside).toBe(0);
    const chi2 = counts.reduce((s, c) => s + (c - n / 10) ** 2 / (n / 10), 0);
    expect(chi2).toBeLessThan(27.9); // p = 0.001 for 9 degrees of freedom
    expect(() => rng.nextBelow(0)).toThrow(RangeError);
  });

  it("uniform in [0,1) and normal has mean 0, variance 1", () => {
    const rng = new SeededRng(3);
    let sum = 0;
    let sq = 0;
    const n = 200_000;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      if (!(u >= 0 && u < 1)) outside++;
      const z = rng.normal();
      sum += z;
      sq += z * z;
    }
    expect(outside).toBe(0);
    expect(Math.abs(sum / n)).toBeLessThan(0.01);
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.02);
  });

  it("mix32 is a bijection on a sample (no collisions) and epoch seeds differ across epochs", () => {
    const seen = new Set<number>();
    for (let i = 0; i < 50_000; i++) seen.add(mix32(i));
    expect(seen.size).toBe(50_000);
    const epochs = new Set(Array.from({ length: 1000 }, (_, e) => deriveEpochSeed(42, e)));
    expect(epochs.size).toBe(1000);
  });
});
