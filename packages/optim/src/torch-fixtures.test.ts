// Trajectories and lr schedules compared against PyTorch 1.13 (fixtures/*.json, from fixtures/make-fixtures.py).
import { describe, expect, it } from "vitest";
import {
  computeProblemGrads,
  makeOptimizer,
  makeProblemParams,
  makeScheduler,
  optimizerFixture,
  param,
  relativeError,
  schedulerFixture,
} from "../test/fixtures.js";

const TOLERANCE = 1e-6;

describe("optimizer trajectories match torch.optim (float64)", () => {
  it("fixtures cover every configuration the issue asks for", () => {
    const names = optimizerFixture.cases.map((c) => c.name);
    for (const required of [
      "sgd_plain",
      "sgd_momentum",
      "sgd_dampening",
      "sgd_nesterov",
      "sgd_weight_decay",
      "adam",
      "adam_amsgrad",
      "adam_weight_decay",
      "adamw",
    ]) {
      expect(names).toContain(required);
    }
    for (const c of optimizerFixture.cases) expect(c.params.length).toBeGreaterThanOrEqual(30);
  });

  for (const c of optimizerFixture.cases) {
    it(`${c.name}: ${c.params.length} steps within ${TOLERANCE} relative error`, () => {
      const params = makeProblemParams("float64");
      const optimizer = makeOptimizer(c.optimizer, params, c.options);
      const scheduler = c.schedule ? makeScheduler(optimizer, c.schedule) : null;
      let worst = 0;
      c.params.forEach((expected, step) => {
        computeProblemGrads(params);
        const torchGrads = c.grads?.[step];
        if (c.lrs) expect(relativeError(optimizer.lr, c.lrs[step])).toBeLessThanOrEqual(TOLERANCE);
        optimizer.step();
        scheduler?.step();
        for (const p of params) {
          const want = expected[p.name];
          const value = p.value.data;
          expect(value.length).toBe(want.length);
          for (let i = 0; i < want.length; i++) {
            const err = relativeError(value[i], want[i]);
            worst = Math.max(worst, err);
            if (err > TOLERANCE) {
              throw new Error(
                `${c.name} step ${step + 1} ${p.name}[${i}]: got ${value[i]}, torch ${want[i]}`,
              );
            }
            if (torchGrads)
              expect(relativeError(p.grad.data[i], torchGrads[p.name][i])).toBeLessThanOrEqual(TOLERANCE);
          }
        }
      });
      expect(worst).toBeLessThanOrEqual(TOLERANCE);
    });
  }
});

describe("scheduler lrs match torch.optim.lr_scheduler", () => {
  it("fixtures cover every scheduler for >= 60 epochs, including MultiStepLR gamma 0.1 with two milestones", () => {
    const types = new Set(schedulerFixture.cases.map((c) => c.scheduler.type));
    for (const t of [
      "StepLR",
      "MultiStepLR",
      "ExponentialLR",
      "CosineAnnealingLR",
      "LinearLR",
      "SequentialLR",
    ]) {
      expect(types).toContain(t);
    }
    const multi = schedulerFixture.cases.find(
      (c) => c.scheduler.type === "MultiStepLR" && c.scheduler.gamma === 0.1,
    );
    expect((multi?.scheduler.milestones as number[] | undefined)?.length).toBe(2);
    for (const c of schedulerFixture.cases) expect(c.lrs.length).toBeGreaterThanOrEqual(60);
  });

  for (const c of schedulerFixture.cases) {
    it(`${c.name}: ${c.lrs.length} epochs`, () => {
      const params = [param("w", new Float64Array(1))];
      const optimizer = makeOptimizer("SGD", params, { lr: c.baseLr, momentum: 0.9 });
      const scheduler = makeScheduler(optimizer, c.scheduler);
      c.lrs.forEach((want, epoch) => {
        if (epoch > 0) {
          optimizer.step();
          scheduler.step();
        }
        const [got] = scheduler.getLastLr();
        expect(optimizer.lr).toBe(got);
        if (relativeError(got, want) > TOLERANCE) {
          throw new Error(`${c.name} epoch ${epoch}: got lr ${got}, torch ${want}`);
        }
      });
    });
  }
});
