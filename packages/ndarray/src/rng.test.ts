import { describe, expect, it } from "vitest";
import { Rng } from "./rng.js";
import { zeros } from "./tensor.js";

// Golden values come from an independent Python implementation of splitmix32 + xoshiro128** (arbitrary-
// precision integers masked to 32 bits), so they pin the algorithm, not just this code's current output.
describe("Rng", () => {
  it("matches xoshiro128** golden values for several seeds", () => {
    const golden: Record<number, number[]> = {
      0: [3809008728, 1133695204, 53579671, 2891528803, 139681546],
      42: [2837322924, 544945897, 479756282, 3500138142, 339756180],
      [-1]: [835879718, 1921286648, 2356205009, 1885780724, 980451116],
    };
    for (const [seed, values] of Object.entries(golden)) {
      const rng = new Rng(Number(seed));
      expect(values.map(() => rng.nextUint32())).toEqual(values);
    }
  });

  it("uniform() uses 53 bits of two outputs (golden values)", () => {
    const rng = new Rng(42);
    expect([rng.uniform(), rng.uniform(), rng.uniform()]).toEqual([
      0.6606157208001621, 0.1117019639532224, 0.0791056456144914,
    ]);
  });

  it("normal() is Box-Muller with the pair's sine cached (golden values)", () => {
    const rng = new Rng(7);
    expect(rng.normal()).toBeCloseTo(-0.6925843705222114, 14);
    expect(rng.normal()).toBeCloseTo(0.23026798570072035, 14);
  });

  it("the same seed gives the same stream; different seeds differ", () => {
    const a = new Rng(123);
    const b = new Rng(123);
    const c = new Rng(124);
    const sa = Array.from({ length: 100 }, () => a.normal());
    const sb = Array.from({ length: 100 }, () => b.normal());
    const sc = Array.from({ length: 100 }, () => c.normal());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
  });

  it("1e6 normal samples have mean 0, variance 1, skewness 0, kurtosis 3", () => {
    const rng = new Rng(2024);
    const n = 1_000_000;
    const data = new Float64Array(n);
    rng.fillNormal(data);
    let m1 = 0;
    for (const v of data) m1 += v;
    m1 /= n;
    let m2 = 0;
    let m3 = 0;
    let m4 = 0;
    for (const v of data) {
      const d = v - m1;
      m2 += d * d;
      m3 += d * d * d;
      m4 += d * d * d * d;
    }
    m2 /= n;
    m3 /= n;
    m4 /= n;
    // Standard errors at n = 1e6: mean 0.001, variance 0.0014, skewness 0.0024, kurtosis 0.005; bounds are ~5 SE.
    expect(Math.abs(m1)).toBeLessThan(0.005);
    expect(Math.abs(m2 - 1)).toBeLessThan(0.007);
    expect(Math.abs(m3 / m2 ** 1.5)).toBeLessThan(0.012);
    expect(Math.abs(m4 / (m2 * m2) - 3)).toBeLessThan(0.025);
  });

  it("fillNormal applies mean/std and equals successive normal() calls on strided views", () => {
    const t = zeros([4, 6]).transpose(1, 0);
    new Rng(5).fillNormal(t, 2, 3);
    const ref = new Rng(5);
    for (let i = 0; i < 6; i++)
      for (let j = 0; j < 4; j++) expect(t.get(i, j)).toBeCloseTo(2 + 3 * ref.normal(), 5);
    const flat = new Float64Array(7);
    new Rng(5).fillNormal(flat, 2, 3); // contiguous fast path: the same sequence
    const ref2 = new Rng(5);
    for (const v of flat) expect(v).toBe(2 + 3 * ref2.normal());
  });

  it("fillUniform stays in [lo, hi) for float32 and float64 and has mean (lo+hi)/2", () => {
    for (const data of [new Float32Array(200_000), new Float64Array(200_000)]) {
      new Rng(9).fillUniform(data, -2, 3);
      let sum = 0;
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of data) {
        sum += v;
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      expect(lo).toBeGreaterThanOrEqual(-2);
      expect(hi).toBeLessThan(3);
      expect(Math.abs(sum / data.length - 0.5)).toBeLessThan(0.02);
    }
  });

  it("permutation is a permutation and shuffle is roughly uniform", () => {
    const rng = new Rng(1);
    const p = rng.permutation(1000);
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    const counts = new Array(3 * 3).fill(0);
    for (let t = 0; t < 9000; t++) {
      const a = [0, 1, 2];
      rng.shuffle(a);
      for (let pos = 0; pos < 3; pos++) counts[a[pos] * 3 + pos]++;
    }
    for (const c of counts) expect(Math.abs(c - 3000)).toBeLessThan(200); // each value at each position 1/3
  });

  it("below() rejects bad bounds and stays in range", () => {
    const rng = new Rng(3);
    expect(() => rng.below(0)).toThrow(/bound/);
    for (let i = 0; i < 1000; i++) expect(rng.below(7)).toBeLessThan(7);
    expect(() => new Rng(Number.NaN)).toThrow(/seed/);
  });
});
