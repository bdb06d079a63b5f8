import { describe, expect, it } from "vitest";
import { monteCarloCell, runQ5MonteCarlo } from "./q5.js";

describe("Q5 Monte-Carlo estimate of E[ReLU(f)²]", () => {
  const result = runQ5MonteCarlo({ samples: 200_000, sigmas: [0.5, 2, 5] });

  it("matches σ²/2 within 4 standard errors for every symmetric law", () => {
    const symmetric = result.cells.filter((c) => c.symmetric);
    expect(new Set(symmetric.map((c) => c.law))).toEqual(new Set(["normal", "uniform", "laplace"]));
    for (const cell of symmetric) {
      expect(cell.exact).toBe(cell.claim);
      expect(Math.abs(cell.estimate - cell.sigma ** 2 / 2)).toBeLessThan(4 * cell.standardError);
      // Each law really has variance σ² (a wrong scale would move the estimate by the same factor).
      expect(cell.sampleVariance / cell.sigma ** 2).toBeGreaterThan(0.98);
      expect(cell.sampleVariance / cell.sigma ** 2).toBeLessThan(1.02);
    }
  });

  it("separates the skewed control from σ²/2 and matches its own exact value 2σ²/e", () => {
    for (const cell of result.cells.filter((c) => !c.symmetric)) {
      expect(Math.abs(cell.estimate - cell.exact)).toBeLessThan(4 * cell.standardError);
      expect(Math.abs(cell.estimate - cell.claim) / cell.standardError).toBeGreaterThan(20);
    }
  });

  it("is deterministic for a seed and changes with it", () => {
    expect(monteCarloCell("laplace", 1, 1000, 7)).toEqual(monteCarloCell("laplace", 1, 1000, 7));
    expect(monteCarloCell("laplace", 1, 1000, 7).estimate).not.toBe(
      monteCarloCell("laplace", 1, 1000, 8).estimate,
    );
  });

  it("reports the standard error of the mean: sd(ReLU(f)²)/√n against the exact sd", () => {
    // For f ~ U(−a, a) with a = √3 (σ = 1): E[ReLU(f)⁴] = a⁴/10 = 0.9 and E[ReLU(f)²] = 0.5, so the
    // variance of ReLU(f)² is 0.9 − 0.25 = 0.65.
    const n = 50_000;
    const cell = monteCarloCell("uniform", 1, n, 3);
    expect(Math.abs((cell.standardError * Math.sqrt(n)) / Math.sqrt(0.65) - 1)).toBeLessThan(0.03);
    // For f ~ N(0, 1): E[ReLU(f)⁴] = 3/2, variance 1.5 − 0.25 = 1.25.
    const normal = monteCarloCell("normal", 1, n, 4);
    expect(Math.abs((normal.standardError * Math.sqrt(n)) / Math.sqrt(1.25) - 1)).toBeLessThan(0.03);
  });

  it("rejects nonsense arguments", () => {
    expect(() => monteCarloCell("normal", 0, 10, 1)).toThrow(/sigma must be positive/);
    expect(() => monteCarloCell("normal", 1, 1, 1)).toThrow(/samples must be an integer ≥ 2/);
  });
});
