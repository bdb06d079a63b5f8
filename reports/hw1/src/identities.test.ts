import { gradcheck } from "@nabla/nn";
import { describe, expect, it } from "vitest";
import {
  checkIdentities,
  checkNormGradient,
  checkTraceGradient,
  checkTraceProductGradient,
} from "./identities.js";

describe("Question 1 identities", () => {
  it.each([0, 1, 2, 3, 4, 5, 6, 7])("all four hold to < 1e-7 (seed %i)", (seed) => {
    const checks = checkIdentities({ seed });
    expect(checks.map((c) => c.id)).toEqual(["1a", "1b", "1c", "1d"]);
    for (const c of checks) {
      expect(c.maxRelativeError, `${c.id} ${c.formula}`).toBeLessThan(1e-7);
      expect(c.analytical.length).toBe(c.shape.reduce((a, b) => a * b, 1));
    }
  });

  it("1a: (B + Bᵀ)x passes but 2Bx fails for a non-symmetric B (the check can fail)", () => {
    const n = 4;
    const B = Float64Array.from({ length: n * n }, (_, k) => Math.sin(3 * k + 1));
    const x = Float64Array.from({ length: n }, (_, k) => Math.cos(k + 0.5));
    const f = () => {
      let s = 0;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s += x[i] * B[i * n + j] * x[j];
      return s;
    };
    const symmetric = new Float64Array(n);
    const twoBx = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        symmetric[i] += (B[i * n + j] + B[j * n + i]) * x[j];
        twoBx[i] += 2 * B[i * n + j] * x[j];
      }
    }
    expect(gradcheck(f, x, symmetric).maxRelativeError).toBeLessThan(1e-8);
    expect(gradcheck(f, x, twoBx).maxRelativeError).toBeGreaterThan(0.05);
  });

  it("1b: the result is VᵀWᵀ with shape of X (m×n), non-square", () => {
    const c = checkTraceProductGradient({ seed: 1, p: 2, m: 3, n: 4 });
    expect(c.shape).toEqual([3, 4]);
    expect(c.maxRelativeError).toBeLessThan(1e-7);
  });

  it("1c: w/‖w‖ has unit norm", () => {
    const c = checkNormGradient({ seed: 2, n: 9 });
    const len = Math.hypot(...c.analytical);
    expect(len).toBeCloseTo(1, 12);
    expect(c.maxRelativeError).toBeLessThan(1e-7);
  });

  it("1d: the gradient of the trace is the identity matrix", () => {
    const c = checkTraceGradient({ seed: 0, n: 3 });
    expect(Array.from(c.analytical)).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(c.maxRelativeError).toBeLessThan(1e-9);
  });
});
