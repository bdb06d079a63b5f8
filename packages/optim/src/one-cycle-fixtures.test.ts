// OneCycleLR against torch.optim.lr_scheduler.OneCycleLR 1.13 (fixtures/one-cycle.json, from make-fixtures.py):
// the lr and momentum of every step, and SGD/AdamW trajectories with the scheduler stepped after every step.
import { describe, expect, it } from "vitest";
import {
  computeProblemGrads,
  makeOptimizer,
  makeProblemParams,
  makeScheduler,
  oneCycleFixture,
  param,
  relativeError,
} from "../test/fixtures.js";
import type { Adam, Optimizer } from "./index.js";
import { SGD } from "./index.js";

/** float64 arithmetic in the same order as torch's; only Math.cos and libm's cos may differ in the last bit. */
const TOLERANCE = 1e-12;

function momentumOf(optimizer: Optimizer): number {
  if (optimizer instanceof SGD) return optimizer.momentum;
  return (optimizer as Adam).betas[0];
}

function expectClose(got: number, want: number, what: string): void {
  if (relativeError(got, want) > TOLERANCE) throw new Error(`${what}: got ${got}, torch ${want}`);
}

describe("OneCycleLR schedules match torch, every step", () => {
  it("cover cos and linear, three phases, epochs x stepsPerEpoch, pctStart 0, one step, SGD and Adam", () => {
    const specs = oneCycleFixture.schedules.map((c) => c.scheduler);
    expect(new Set(specs.map((s) => s.annealStrategy ?? "cos"))).toEqual(new Set(["cos", "linear"]));
    expect(specs.filter((s) => s.threePhase === true).length).toBeGreaterThanOrEqual(2);
    expect(specs.some((s) => s.epochs !== undefined && s.stepsPerEpoch !== undefined)).toBe(true);
    expect(specs.some((s) => s.cycleMomentum === false)).toBe(true);
    expect(new Set(oneCycleFixture.schedules.map((c) => c.optimizer))).toEqual(new Set(["SGD", "Adam"]));
  });

  for (const c of oneCycleFixture.schedules) {
    it(`${c.name}: lr and momentum of steps 0..${c.totalSteps}, then step() throws as torch raises`, () => {
      const optimizer = makeOptimizer(c.optimizer, [param("w", new Float64Array(1))], c.options);
      const scheduler = makeScheduler(optimizer, c.scheduler);
      expect(scheduler.interval).toBe("step");
      expect(scheduler.totalSteps).toBe(c.totalSteps);
      expect(optimizer.initialLr).toBe(c.initialLr);
      expect(c.lrs).toHaveLength(c.totalSteps + 1);
      c.lrs.forEach((want, k) => {
        if (k > 0) {
          optimizer.step();
          scheduler.step();
        }
        const [got] = scheduler.getLastLr();
        expect(optimizer.lr).toBe(got);
        // torch's only negative lr is step T's linear extrapolation (used by no optimizer step): clamped to 0
        if (want < 0) expect([k, got]).toEqual([c.totalSteps, 0]);
        else expectClose(got, want, `${c.name} step ${k} lr`);
        expectClose(momentumOf(optimizer), c.momenta[k], `${c.name} step ${k} momentum`);
      });
      expect(c.stepBeyondError).toMatch(`Tried to step ${c.totalSteps + 2} times`);
      const before = JSON.stringify(scheduler.stateDict());
      expect(() => scheduler.step()).toThrow(
        new RegExp(
          `^OneCycleLR: step\\(\\): expected at most ${c.totalSteps} calls .*, got call ${c.totalSteps + 1}$`,
        ),
      );
      expect(JSON.stringify(scheduler.stateDict())).toBe(before);
    });
  }

  it("are bit-identical to torch's for most steps", () => {
    let same = 0;
    let total = 0;
    for (const c of oneCycleFixture.schedules) {
      const optimizer = makeOptimizer(c.optimizer, [param("w", new Float64Array(1))], c.options);
      const scheduler = makeScheduler(optimizer, c.scheduler);
      c.lrs.forEach((want, k) => {
        if (k > 0) scheduler.step();
        total += 2;
        if (scheduler.getLastLr()[0] === Math.max(0, want)) same++;
        if (momentumOf(optimizer) === c.momenta[k]) same++;
      });
    }
    expect(same / total).toBeGreaterThan(0.9);
  });
});

describe("optimizers stepped under OneCycleLR match torch's parameters", () => {
  it("include SGD with Nesterov momentum and weight decay, and AdamW (beta1 cycled)", () => {
    const names = oneCycleFixture.trajectories.map((c) => c.name);
    expect(names).toContain("sgd_nesterov_weight_decay_onecycle");
    expect(oneCycleFixture.trajectories.some((c) => c.optimizer === "AdamW")).toBe(true);
  });

  for (const c of oneCycleFixture.trajectories) {
    it(`${c.name}: ${c.params.length} steps, the whole cycle, within ${TOLERANCE} relative error`, () => {
      const params = makeProblemParams("float64");
      const optimizer = makeOptimizer(c.optimizer, params, c.options);
      const scheduler = makeScheduler(optimizer, c.schedule);
      expect(scheduler.totalSteps).toBe(c.params.length);
      c.params.forEach((expected, step) => {
        computeProblemGrads(params);
        expectClose(optimizer.lr, c.lrs[step], `${c.name} step ${step + 1} lr`);
        expectClose(momentumOf(optimizer), c.momenta[step], `${c.name} step ${step + 1} momentum`);
        optimizer.step();
        scheduler.step();
        for (const p of params) {
          const want = expected[p.name];
          for (let i = 0; i < want.length; i++) {
            expectClose(p.value.data[i], want[i], `${c.name} step ${step + 1} ${p.name}[${i}]`);
          }
        }
      });
      expect(() => scheduler.step()).toThrow(/^OneCycleLR: step\(\): expected at most 40 calls/);
    });
  }
});
