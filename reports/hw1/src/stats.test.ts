import { describe, expect, it } from "vitest";
import {
  incompleteBeta,
  lnGamma,
  mean,
  pairedDifference,
  sampleSd,
  studentTCdf,
  studentTQuantile,
  summarise,
} from "./stats.js";

describe("Student's t", () => {
  it("matches known 97.5 % quantiles", () => {
    // Reference values (R's qt(0.975, df)).
    const known: [number, number][] = [
      [1, 12.7062047],
      [2, 4.3026527],
      [3, 3.1824463],
      [4, 2.7764451],
      [9, 2.2621572],
      [30, 2.0422725],
      [1000, 1.9623391],
    ];
    for (const [df, q] of known) expect(studentTQuantile(0.975, df)).toBeCloseTo(q, 6);
  });

  it("matches the closed forms for df = 1 and df = 2", () => {
    for (const p of [0.6, 0.9, 0.975, 0.995]) {
      expect(studentTQuantile(p, 1)).toBeCloseTo(Math.tan(Math.PI * (p - 0.5)), 8);
      expect(studentTQuantile(p, 2)).toBeCloseTo((2 * p - 1) / Math.sqrt(2 * p * (1 - p)), 8);
    }
    expect(studentTQuantile(0.025, 4)).toBeCloseTo(-2.7764451, 6);
  });

  it("has a CDF that is symmetric and reaches the normal for large df", () => {
    expect(studentTCdf(0, 5)).toBeCloseTo(0.5, 12);
    expect(studentTCdf(1.3, 7) + studentTCdf(-1.3, 7)).toBeCloseTo(1, 12);
    expect(studentTCdf(1.959964, 1e7)).toBeCloseTo(0.975, 6);
  });

  it("builds on a correct ln Γ and incomplete beta", () => {
    expect(lnGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(lnGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
    // I_x(1, 1) = x and I_x(a, 1) = x^a.
    expect(incompleteBeta(0.3, 1, 1)).toBeCloseTo(0.3, 12);
    expect(incompleteBeta(0.7, 3, 1)).toBeCloseTo(0.343, 12);
  });

  it("refuses p outside (0, 1)", () => {
    expect(() => studentTQuantile(1, 3)).toThrow(/0 < p < 1/);
  });
});

describe("summaries", () => {
  it("uses n − 1 for the standard deviation and t(0.975; n − 1) for the interval", () => {
    const v = [0.5, 0.52, 0.49, 0.51, 0.5];
    const m = 0.504;
    const sd = Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / 4);
    expect(mean(v)).toBeCloseTo(m, 14);
    expect(sampleSd(v)).toBeCloseTo(sd, 14);
    const s = summarise(v);
    expect(s.halfWidth).toBeCloseTo((2.7764451 * sd) / Math.sqrt(5), 7);
    expect([s.lo, s.hi, s.min, s.max, s.n]).toEqual([m - s.halfWidth, m + s.halfWidth, 0.49, 0.52, 5]);
  });

  it("pairs by seed and leaves out unmatched seeds", () => {
    const a = new Map([
      [42, 0.53],
      [1, 0.52],
      [2, 0.54],
    ]);
    const b = new Map([
      [2, 0.5],
      [42, 0.5],
      [7, 0.1],
    ]);
    const d = pairedDifference(a, b);
    expect(d.seeds).toEqual([42, 2]);
    expect(d.differences.map((x) => x.toFixed(4))).toEqual(["0.0300", "0.0400"]);
    expect(d.summary.t).toBeCloseTo(12.7062047, 6);
  });

  it("needs two values for a spread", () => {
    expect(() => sampleSd([1])).toThrow(/at least 2/);
  });
});
