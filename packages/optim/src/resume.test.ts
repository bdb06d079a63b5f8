// Saving optimizer + scheduler state as JSON mid-run and resuming into fresh objects gives bit-identical results.
import type { Parameter } from "@nabla/ndarray";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  computeProblemGrads,
  makeOptimizer,
  makeProblemParams,
  makeScheduler,
  optimizerFixture,
  param,
  type SchedulerSpec,
  schedulerFixture,
} from "../test/fixtures.js";
import { Adam, OptimError, SGD, StepLR } from "./index.js";

const schedules: SchedulerSpec[] = schedulerFixture.cases.map((c) => c.scheduler);

interface RunSpec {
  caseIndex: number;
  scheduleIndex: number;
  epochs: number;
  stepsPerEpoch: number;
}

function build(spec: RunSpec, params: Parameter[]) {
  const c = optimizerFixture.cases[spec.caseIndex];
  const optimizer = makeOptimizer(c.optimizer, params, c.options);
  const scheduler = makeScheduler(optimizer, schedules[spec.scheduleIndex]);
  return { optimizer, scheduler };
}

function runEpochs(
  spec: RunSpec,
  params: Parameter[],
  built: ReturnType<typeof build>,
  epochs: number,
  lrs: number[],
) {
  for (let e = 0; e < epochs; e++) {
    for (let s = 0; s < spec.stepsPerEpoch; s++) {
      computeProblemGrads(params);
      built.optimizer.step();
    }
    built.scheduler.step();
    lrs.push(built.scheduler.getLastLr()[0]);
  }
}

function snapshot(params: Parameter[]): number[][] {
  return params.map((p) => Array.from(p.value.data));
}

describe("resume from a JSON state dict equals the uninterrupted run", () => {
  it("for every optimizer configuration x scheduler x split point (property)", () => {
    fc.assert(
      fc.property(
        fc.record({
          caseIndex: fc.integer({ min: 0, max: optimizerFixture.cases.length - 1 }),
          scheduleIndex: fc.integer({ min: 0, max: schedules.length - 1 }),
          epochs: fc.integer({ min: 2, max: 40 }),
          stepsPerEpoch: fc.integer({ min: 1, max: 3 }),
        }),
        fc.integer({ min: 0, max: 1000 }).map((k) => k / 1000),
        (spec, splitFraction) => {
          const split = Math.min(spec.epochs - 1, Math.max(1, Math.round(splitFraction * spec.epochs)));

          const straightParams = makeProblemParams("float64");
          const straight = build(spec, straightParams);
          const straightLrs: number[] = [];
          runEpochs(spec, straightParams, straight, spec.epochs, straightLrs);

          const firstParams = makeProblemParams("float64");
          const first = build(spec, firstParams);
          const resumedLrs: number[] = [];
          runEpochs(spec, firstParams, first, split, resumedLrs);
          const saved = JSON.stringify({
            params: snapshot(firstParams),
            optimizer: first.optimizer.stateDict(),
            scheduler: first.scheduler.stateDict(),
          });

          const restored = JSON.parse(saved);
          const secondParams = makeProblemParams("float64");
          secondParams.forEach((p, k) => {
            p.value.data.set(restored.params[k]);
          });
          const second = build(spec, secondParams);
          second.optimizer.loadStateDict(restored.optimizer);
          second.scheduler.loadStateDict(restored.scheduler);
          expect(second.optimizer.lr).toBe(first.optimizer.lr);
          expect(second.scheduler.getLastLr()).toEqual(first.scheduler.getLastLr());
          runEpochs(spec, secondParams, second, spec.epochs - split, resumedLrs);

          expect(resumedLrs).toEqual(straightLrs);
          expect(snapshot(secondParams)).toEqual(snapshot(straightParams));
          expect(second.optimizer.stateDict()).toEqual(straight.optimizer.stateDict());
          expect(second.scheduler.stateDict()).toEqual(straight.scheduler.stateDict());
        },
      ),
      { numRuns: 150, seed: 20261126 },
    );
  });
});

describe("state dicts", () => {
  it("are plain JSON and keep NaN/Infinity (which JSON.stringify would turn into null)", () => {
    const p = param("w", new Float64Array([1, 2, 3]), new Float64Array([Number.NaN, Infinity, 1]));
    const adam = new Adam([p], { amsgrad: true });
    adam.step();
    const state = JSON.parse(JSON.stringify(adam.stateDict()));
    expect(state.state.w.expAvg[0]).toBe("NaN");
    expect(state.state.w.expAvgSq[1]).toBe("Infinity");
    const other = new Adam([param("w", new Float64Array(3), new Float64Array(3))], { amsgrad: true });
    other.loadStateDict(state);
    expect(other.stateDict()).toEqual(adam.stateDict());
  });

  it("keep the parameter dtype: float32 state stays float32", () => {
    const p = param("w", new Float32Array([0.1, 0.2]), new Float32Array([0.3, -0.7]));
    const sgd = new SGD([p], { lr: 0.1, momentum: 0.9 });
    sgd.step();
    sgd.step();
    for (const v of sgd.stateDict().state.w.momentumBuffer) expect(Math.fround(v as number)).toBe(v);
  });

  it("reject a state of the wrong optimizer, unknown parameters, wrong lengths, and change nothing then", () => {
    const p = param("w", new Float64Array([1, 2]), new Float64Array([1, 1]));
    const sgd = new SGD([p], { lr: 0.1, momentum: 0.5 });
    sgd.step();
    const good = sgd.stateDict();
    const before = JSON.stringify(good);
    const adam = new Adam([p]);
    expect(() => adam.loadStateDict(good)).toThrow(/Adam: stateDict.type: expected "Adam", got "SGD"/);
    expect(() => sgd.loadStateDict({ ...good, state: { v: good.state.w } })).toThrow(
      /stateDict.state\["v"\]/,
    );
    expect(() => sgd.loadStateDict({ ...good, state: { w: { momentumBuffer: [1] } } })).toThrow(
      /stateDict.state\["w"\].momentumBuffer: expected an array of length 2, got "length 1"/,
    );
    expect(() => sgd.loadStateDict({ ...good, lr: 0.5, momentum: -1 })).toThrow(
      /^SGD: stateDict.momentum: expected a number >= 0, got -1$/,
    );
    expect(() => sgd.loadStateDict({ ...good, lr: 0.5, momentum: -1 })).toThrow(OptimError);
    expect(JSON.stringify(sgd.stateDict())).toBe(before);
    expect(() => new StepLR(sgd, { stepSize: 2 }).loadStateDict({ type: "StepLR", lastEpoch: 3 })).toThrow(
      /StepLR: stateDict.lastLr: expected an array of one lr, got nothing/,
    );
  });
});
