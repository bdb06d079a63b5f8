import { describe, expect, it } from "vitest";
import { NnError } from "./errors.js";
import { GRADCHECK_FLOOR, GRADCHECK_STEP, gradcheck, numericalGradient, relativeError } from "./gradcheck.js";

describe("numericalGradient", () => {
  it("matches a known derivative and restores x bit for bit", () => {
    const x = Float64Array.from([0.3, -1.7, 2.5, 1e-3]);
    const before = Float64Array.from(x);
    const f = () => x.reduce((s, v) => s + v * v * v + Math.sin(v), 0);
    const g = numericalGradient(f, x);
    for (let i = 0; i < x.length; i++) {
      expect(g[i]).toBeCloseTo(3 * x[i] * x[i] + Math.cos(x[i]), 8);
    }
    expect(Array.from(x)).toEqual(Array.from(before));
  });

  it("uses central differences with h = 1e-5", () => {
    expect(GRADCHECK_STEP).toBe(1e-5);
    // For f = x³ the central difference is exactly 3x² + h²: the h² term identifies the scheme and step.
    const x = [2];
    const g = numericalGradient(() => x[0] ** 3, x);
    expect(g[0]).toBeCloseTo(12 + 1e-10, 6);
    const coarse = numericalGradient(() => x[0] ** 3, x, 0.1);
    expect(coarse[0]).toBeCloseTo(12 + 0.01, 10);
  });

  it("rejects float32 storage and a non-positive step", () => {
    const f32 = new Float32Array(3);
    expect(() => numericalGradient(() => 0, f32 as unknown as Float64Array)).toThrow(NnError);
    expect(() => numericalGradient(() => 0, [1], 0)).toThrow(/h must be positive/);
  });
});

describe("relativeError", () => {
  it("is the elementwise max of |a−b| / max(1e-8, |a|+|b|)", () => {
    expect(relativeError([1, 0], [1.1, 0])).toBeCloseTo(0.1 / 2.1, 15);
    expect(relativeError([0, 0], [0, 0])).toBe(0);
    expect(GRADCHECK_FLOOR).toBe(1e-8);
    expect(relativeError([1e-9], [0])).toBeCloseTo(0.1, 12); // floor in the denominator
    expect(relativeError([5, -1], [5, 1])).toBe(1); // opposite signs
    expect(relativeError([], [])).toBe(0);
    expect(relativeError([Number.NaN], [1])).toBeNaN();
    expect(() => relativeError([1], [1, 2])).toThrow(/lengths differ/);
  });
});

describe("gradcheck", () => {
  it("passes a correct gradient and flags a wrong one", () => {
    const x = Float64Array.from([0.5, -2, 3]);
    const f = () => x[0] * x[1] + x[2] ** 2;
    const ok = gradcheck(f, x, [x[1], x[0], 2 * x[2]], { name: "f", wrt: "x" });
    expect(ok.maxRelativeError).toBeLessThan(1e-9);
    expect(ok.shape).toEqual([3]);
    const wrong = gradcheck(f, x, [x[1], x[0], x[2]]);
    expect(wrong.maxRelativeError).toBeGreaterThan(0.3);
    expect(() => gradcheck(f, x, [1, 2])).toThrow(/analytical gradient has 2 entries/);
  });
});
