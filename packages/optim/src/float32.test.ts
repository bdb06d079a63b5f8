// Float32 smoke test: the optimizers run on Float32Array parameters (the runner's dtype) and stay close to
// torch's own float32 trajectories. torch rounds every intermediate to float32 while this package computes each
// element in double and rounds on store, so agreement is to float32 precision, not bit-exact.
import { describe, expect, it } from "vitest";
import { computeProblemGrads, makeOptimizer, makeProblemParams, optimizerFixture } from "../test/fixtures.js";

describe("float32 parameters", () => {
  for (const c of optimizerFixture.float32Cases) {
    it(`${c.name}: ${c.params.length} float32 steps within 5e-6 (absolute; |p| <= ~2, measured <= 7.2e-7) of torch float32`, () => {
      const params = makeProblemParams("float32");
      const optimizer = makeOptimizer(c.optimizer, params, c.options);
      let worst = 0;
      for (const expected of c.params) {
        computeProblemGrads(params);
        optimizer.step();
        for (const p of params) {
          const value = p.value.data;
          expect(value).toBeInstanceOf(Float32Array);
          for (let i = 0; i < value.length; i++) {
            expect(Number.isFinite(value[i])).toBe(true);
            worst = Math.max(worst, Math.abs(value[i] - expected[p.name][i]));
          }
        }
      }
      expect(worst).toBeLessThan(5e-6);
      // and the run actually moved the parameters (not a vacuous comparison)
      const init = optimizerFixture.problem.params[0].init;
      expect(Math.abs(params[0].value.data[0] - init[0])).toBeGreaterThan(1e-2);
    });
  }
});
