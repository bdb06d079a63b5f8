// OneCycleLR beyond the torch fixtures: the per-step contract (interval, totalSteps from the caller), what it
// overrides at construction, its one-line errors, and resuming from its state dict.
import type { Parameter } from "@nabla/ndarray";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  computeProblemGrads,
  makeProblemParams,
  param,
  schedulerConfig,
  schedulerFixture,
} from "../test/fixtures.js";
import {
  Adam,
  AdamW,
  createScheduler,
  LinearLR,
  OneCycleLR,
  OptimError,
  Optimizer,
  type OptimizerStateBase,
  parseSchedulerConfig,
  registerScheduler,
  SequentialLR,
  SGD,
  schedulerConfigSchema,
  schedulerInterval,
  schedulerKinds,
} from "./index.js";

const params = () => [param("w", new Float64Array(2))];
const sgd = (o: Partial<ConstructorParameters<typeof SGD>[1]> = {}) => new SGD(params(), { lr: 0.1, ...o });

/** An optimizer with neither momentum nor betas, as one registered from user code could be. */
class PlainDescent extends Optimizer {
  constructor(ps: Parameter[]) {
    super("PlainDescent", ps, 0.1);
  }
  step(): void {}
  stateDict(): OptimizerStateBase {
    return { type: "PlainDescent", lr: this.lr, initialLr: this.initialLr ?? null };
  }
  loadStateDict(): void {}
}

function errorOf(fn: () => unknown): OptimError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OptimError);
    expect((e as Error).message).not.toContain("\n");
    return e as OptimError;
  }
  throw new Error("expected an OptimError");
}

describe("the scheduler contract: interval and totalSteps", () => {
  it("OneCycleLR is stepped per optimizer step; every other scheduler per epoch, without a step count", () => {
    const cycle = createScheduler({ kind: "onecycle", maxLr: 0.1, totalSteps: 10 }, sgd());
    expect([cycle.interval, cycle.totalSteps]).toEqual(["step", 10]);
    for (const c of schedulerFixture.cases) {
      const s = createScheduler(schedulerConfig(c.scheduler), sgd(), { totalSteps: 10 });
      expect([s.interval, s.totalSteps], c.name).toEqual(["epoch", undefined]);
      expect(schedulerInterval(schedulerConfig(c.scheduler).kind)).toBe("epoch");
    }
    expect(schedulerInterval("onecycle")).toBe("step");
    expect(() => schedulerInterval("no_such_scheduler")).toThrow(
      /^schedulerInterval: kind: expected a registered scheduler kind, got "no_such_scheduler"$/,
    );
  });

  it("takes totalSteps from the caller's context when the config has no step count", () => {
    const epochs = 3;
    const batches = 7;
    const optimizer = sgd({ momentum: 0.9 });
    const s = createScheduler({ kind: "onecycle", maxLr: 0.1 }, optimizer, { totalSteps: epochs * batches });
    expect(s.totalSteps).toBe(21);
    // the runner's loop: one scheduler step after every optimizer step uses up the schedule exactly
    for (let e = 0; e < epochs; e++) {
      for (let b = 0; b < batches; b++) {
        optimizer.step();
        s.step();
      }
    }
    expect(() => s.step()).toThrow(/^OneCycleLR: step\(\): expected at most 21 calls/);
    const own = createScheduler({ kind: "onecycle", maxLr: 0.1, epochs: 4, stepsPerEpoch: 7 }, sgd(), {
      totalSteps: 21,
    });
    expect(own.totalSteps).toBe(28);
  });

  it("rejects a config with fewer steps than the caller will take, before training starts", () => {
    expect(() =>
      createScheduler({ kind: "onecycle", maxLr: 0.1, totalSteps: 20 }, sgd(), { totalSteps: 21 }),
    ).toThrow(
      /^OneCycleLR: totalSteps: expected at least the 21 optimizer steps the caller will take \(createScheduler's context.totalSteps\), got 20$/,
    );
    expect(() =>
      createScheduler({ kind: "onecycle", maxLr: 0.1, epochs: 2, stepsPerEpoch: 10 }, sgd(), {
        totalSteps: 21,
      }),
    ).toThrow(/, got 2 x 10 = 20$/);
  });

  it("checks the context and needs a step count from somewhere", () => {
    const config = { kind: "onecycle", maxLr: 0.1 } as const;
    expect(errorOf(() => createScheduler(config, sgd())).message).toBe(
      "OneCycleLR: totalSteps: expected totalSteps, or epochs and stepsPerEpoch (createScheduler takes it from its context { totalSteps }), got nothing",
    );
    expect(() => createScheduler(config, sgd(), { totalSteps: 0 })).toThrow(
      /^createScheduler: context.totalSteps: expected an integer >= 1, got 0$/,
    );
    expect(() => createScheduler(config, sgd(), { steps: 5 } as never)).toThrow(
      /^createScheduler: context.steps: unknown field/,
    );
  });

  it("is not a child of sequential, whose milestones count epochs", () => {
    expect(() =>
      parseSchedulerConfig({
        kind: "sequential",
        schedulers: [{ kind: "linear" }, { kind: "onecycle", maxLr: 0.1, totalSteps: 10 }],
        milestones: [3],
      }),
    ).toThrow(/^scheduler.schedulers\[1\].kind: expected kind to be one of "[^\n]*, got "onecycle"$/);
    const optimizer = sgd();
    const linear = new LinearLR(optimizer);
    const cycle = new OneCycleLR(optimizer, { maxLr: 0.1, totalSteps: 10 });
    expect(
      () => new SequentialLR(optimizer, { schedulers: [linear, cycle as never], milestones: [2] }),
    ).toThrow(/^SequentialLR: schedulers\[1\]: expected a StepLR/);
  });

  it("lists every registered kind for an unknown one", () => {
    const kinds = schedulerKinds().map((k) => JSON.stringify(k));
    expect(kinds).toContain('"onecycle"');
    expect(errorOf(() => createScheduler({ kind: "no_such_scheduler" } as never, sgd())).message).toBe(
      `scheduler.kind: expected kind to be one of ${kinds.join(", ")}, got "no_such_scheduler"`,
    );
  });

  it("makes an entry's declared interval and its schedulers' agree", () => {
    const schema = z.strictObject({ kind: z.literal("says-step") });
    expect(() =>
      registerScheduler({
        kind: "bad-interval",
        schema,
        interval: "batch" as never,
        create: () => ({}) as never,
      }),
    ).toThrow(
      /^registerScheduler: interval: expected "step" or "epoch" \(or nothing, meaning "epoch"\), got "batch"$/,
    );
    registerScheduler({ kind: "says-step", schema, interval: "step", create: (_, o) => new LinearLR(o) });
    expect(schedulerConfigSchema().safeParse({ kind: "says-step" }).success).toBe(true);
    expect(() => createScheduler({ kind: "says-step" }, sgd())).toThrow(
      /^createScheduler: interval: expected "step", as the entry of "says-step" declares, got "epoch"$/,
    );
  });
});

describe("construction overrides the optimizer, as torch's does", () => {
  it("sets lr and initialLr to maxLr / divFactor and the momentum to the schedule's step 0", () => {
    const optimizer = sgd({ lr: 0.5 });
    optimizer.initialLr = 0.5;
    const s = new OneCycleLR(optimizer, { maxLr: 1, totalSteps: 10, divFactor: 20 });
    expect([s.initialLr, optimizer.initialLr, s.minLr]).toEqual([0.05, 0.05, 0.05 / 1e4]);
    expect(optimizer.lr).toBeCloseTo(0.05, 15);
    expect(optimizer.momentum).toBeCloseTo(0.95, 15);
    const adam = new AdamW(params(), { betas: [0.8, 0.99] });
    new OneCycleLR(adam, { maxLr: 0.01, totalSteps: 10, maxMomentum: 0.9 });
    expect(adam.betas[0]).toBeCloseTo(0.9, 15);
    expect(adam.betas[1]).toBe(0.99);
  });

  it("leaves the momentum alone without cycleMomentum, and then needs no momentum", () => {
    const optimizer = sgd({ momentum: 0.7 });
    new OneCycleLR(optimizer, { maxLr: 0.1, totalSteps: 5, cycleMomentum: false });
    expect(optimizer.momentum).toBe(0.7);
    expect(
      () => new OneCycleLR(new PlainDescent(params()), { maxLr: 0.1, totalSteps: 5, cycleMomentum: false }),
    ).not.toThrow();
  });
});

describe("errors are one line naming the field", () => {
  const cases: [unknown, string][] = [
    [{ kind: "onecycle" }, "scheduler.maxLr: expected a number, got nothing"],
    [{ kind: "onecycle", maxLr: -1, totalSteps: 5 }, "scheduler.maxLr: expected a number >= 0, got -1"],
    [
      { kind: "onecycle", maxLr: 0.1, totalSteps: 0 },
      "scheduler.totalSteps: expected an integer >= 1, got 0",
    ],
    [
      { kind: "onecycle", maxLr: 0.1, totalSteps: 2.5 },
      "scheduler.totalSteps: expected an integer >= 1, got 2.5",
    ],
    [
      { kind: "onecycle", maxLr: 0.1, pctStart: 1.5 },
      "scheduler.pctStart: expected a number in [0, 1], got 1.5",
    ],
    [
      { kind: "onecycle", maxLr: 0.1, annealStrategy: "cosine" },
      'scheduler.annealStrategy: expected "cos" or "linear", got "cosine"',
    ],
    [{ kind: "onecycle", maxLr: 0.1, divFactor: 0 }, "scheduler.divFactor: expected a number > 0, got 0"],
    [
      { kind: "onecycle", maxLr: 0.1, finalDivFactor: -1 },
      "scheduler.finalDivFactor: expected a number > 0, got -1",
    ],
    [
      { kind: "onecycle", maxLr: 0.1, baseMomentum: -0.1 },
      "scheduler.baseMomentum: expected a number >= 0, got -0.1",
    ],
    [{ kind: "onecycle", maxLr: 0.1, threePhase: 1 }, "scheduler.threePhase: expected true or false, got 1"],
    [
      { kind: "onecycle", maxLr: 0.1, max_lr: 0.1 },
      "scheduler.max_lr: unknown field (remove it or check its spelling)",
    ],
    [
      { kind: "onecycle", maxLr: 0.1, totalSteps: 100, epochs: 5 },
      "scheduler.totalSteps: expected totalSteps or epochs and stepsPerEpoch, not both, got totalSteps 100 and epochs 5",
    ],
    [
      { kind: "onecycle", maxLr: 0.1, epochs: 5 },
      "scheduler.stepsPerEpoch: expected stepsPerEpoch with epochs (totalSteps is their product), got nothing",
    ],
  ];
  for (const [config, message] of cases) {
    it(message, () => {
      expect(errorOf(() => parseSchedulerConfig(config)).message).toBe(message);
      // the class checks its options with the same schema: the same line, owned by the class
      const { kind: _, ...options } = config as Record<string, unknown>;
      const ctor = errorOf(() => new OneCycleLR(sgd(), { totalSteps: 5, ...options } as never));
      if (!("epochs" in options))
        expect(ctor.message).toBe(`OneCycleLR: ${message.replace(/^scheduler\./, "")}`);
    });
  }

  it("for combinations with the optimizer that cannot work", () => {
    const o = { maxLr: 0.1, totalSteps: 10 };
    expect(errorOf(() => new OneCycleLR(new PlainDescent(params()), o)).message).toBe(
      'OneCycleLR: cycleMomentum: expected false for an optimizer without momentum or betas (SGD, Adam and AdamW have them), got "PlainDescent"',
    );
    expect(errorOf(() => new OneCycleLR(new Adam(params()), { ...o, maxMomentum: 1 })).message).toBe(
      "OneCycleLR: maxMomentum: expected a number in [0, 1) to be Adam's beta1, got 1",
    );
    expect(
      errorOf(() => new OneCycleLR(sgd({ momentum: 0.9, nesterov: true }), { ...o, baseMomentum: 0 }))
        .message,
    ).toBe("OneCycleLR: baseMomentum: expected a number > 0 for SGD with Nesterov momentum, got 0");
    expect(() => new OneCycleLR(sgd(), { ...o, baseMomentum: 0, maxMomentum: 2 })).not.toThrow();
    expect(errorOf(() => new OneCycleLR({} as never, o)).message).toBe(
      "OneCycleLR: optimizer: expected an Optimizer from @nabla/optim, got an object",
    );
  });

  it("for a pctStart giving a phase no steps, where torch divides by zero", () => {
    const at = (pctStart: number, totalSteps: number, threePhase = false) =>
      errorOf(() => new OneCycleLR(sgd(), { maxLr: 0.1, pctStart, totalSteps, threePhase })).message;
    expect(at(0.25, 4)).toBe(
      "OneCycleLR: pctStart: expected a pctStart that leaves every phase at least one step (torch divides by zero at step 0), got 0.25 with totalSteps 4",
    );
    expect(at(1, 10)).toMatch(/\(torch divides by zero at step 10\), got 1 with totalSteps 10$/);
    expect(at(0.1, 10, true)).toMatch(/at step 0\), got 0.1 with totalSteps 10 and threePhase$/);
    expect(at(0.75, 2, true)).toMatch(/at step 2\), got 0.75 with totalSteps 2 and threePhase$/);
    expect(
      () => new OneCycleLR(sgd(), { maxLr: 0.1, pctStart: 1, totalSteps: 10, threePhase: true }),
    ).not.toThrow();
  });
});

describe("state dicts", () => {
  function build(optimizerKind: "sgd" | "adam", ps: Parameter[]) {
    const optimizer =
      optimizerKind === "sgd"
        ? new SGD(ps, { lr: 0.03, momentum: 0.95, nesterov: true, weightDecay: 5e-4 })
        : new Adam(ps, { lr: 0.01 });
    const scheduler = createScheduler({ kind: "onecycle", maxLr: 0.05, threePhase: true }, optimizer, {
      totalSteps: 30,
    });
    return { optimizer, scheduler };
  }

  function run(b: ReturnType<typeof build>, ps: Parameter[], steps: number, lrs: number[]) {
    for (let k = 0; k < steps; k++) {
      computeProblemGrads(ps);
      b.optimizer.step();
      b.scheduler.step();
      lrs.push(b.scheduler.getLastLr()[0]);
    }
  }

  it("resume bit-identically from JSON at any step (property)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("sgd" as const, "adam" as const),
        fc.integer({ min: 0, max: 30 }),
        (kind, split) => {
          const straightParams = makeProblemParams("float64");
          const straight = build(kind, straightParams);
          const straightLrs: number[] = [];
          run(straight, straightParams, 30, straightLrs);

          const firstParams = makeProblemParams("float64");
          const first = build(kind, firstParams);
          const lrs: number[] = [];
          run(first, firstParams, split, lrs);
          const saved = JSON.parse(
            JSON.stringify({
              params: firstParams.map((p) => Array.from(p.value.data)),
              optimizer: first.optimizer.stateDict(),
              scheduler: first.scheduler.stateDict(),
            }),
          );
          const secondParams = makeProblemParams("float64");
          secondParams.forEach((p, k) => {
            p.value.data.set(saved.params[k]);
          });
          const second = build(kind, secondParams);
          second.optimizer.loadStateDict(saved.optimizer);
          second.scheduler.loadStateDict(saved.scheduler);
          run(second, secondParams, 30 - split, lrs);
          expect(lrs).toEqual(straightLrs);
          expect(secondParams.map((p) => Array.from(p.value.data))).toEqual(
            straightParams.map((p) => Array.from(p.value.data)),
          );
          expect(second.optimizer.stateDict()).toEqual(straight.optimizer.stateDict());
          expect(second.scheduler.stateDict()).toEqual(straight.scheduler.stateDict());
          expect(() => second.scheduler.step()).toThrow(/expected at most 30 calls/);
        },
      ),
      { numRuns: 40, seed: 20261208 },
    );
  });

  it("hold the resolved step count and every hyperparameter", () => {
    const s = new OneCycleLR(sgd(), { maxLr: 0.1, epochs: 3, stepsPerEpoch: 4 });
    s.step();
    expect(s.stateDict()).toEqual({
      type: "OneCycleLR",
      lastEpoch: 1,
      lastLr: s.getLastLr(),
      totalSteps: 12,
      maxLr: 0.1,
      pctStart: 0.3,
      annealStrategy: "cos",
      cycleMomentum: true,
      baseMomentum: 0.85,
      maxMomentum: 0.95,
      divFactor: 25,
      finalDivFactor: 1e4,
      threePhase: false,
    });
  });

  it("are checked completely before anything changes", () => {
    const s = new OneCycleLR(sgd(), { maxLr: 0.1, totalSteps: 12 });
    const good = s.stateDict();
    const before = JSON.stringify(good);
    expect(() => s.loadStateDict({ ...good, type: "StepLR" })).toThrow(
      /^OneCycleLR: stateDict.type: expected "OneCycleLR", got "StepLR"$/,
    );
    expect(() => s.loadStateDict({ ...good, lastEpoch: 13 })).toThrow(
      /^OneCycleLR: stateDict.lastEpoch: expected at most totalSteps \(12\), got 13$/,
    );
    expect(() => s.loadStateDict({ ...good, totalSteps: undefined })).toThrow(
      /^OneCycleLR: stateDict.totalSteps: expected an integer >= 1, got nothing$/,
    );
    expect(() => s.loadStateDict({ ...good, annealStrategy: "cosine" })).toThrow(
      /^OneCycleLR: stateDict.annealStrategy: expected "cos" or "linear", got "cosine"$/,
    );
    expect(() => s.loadStateDict({ ...good, pctStart: 0.25, totalSteps: 4, lastEpoch: 0 })).toThrow(
      /^OneCycleLR: stateDict.pctStart: expected a pctStart that leaves every phase at least one step/,
    );
    expect(JSON.stringify(s.stateDict())).toBe(before);
    const plain = new OneCycleLR(new PlainDescent(params()), {
      maxLr: 0.1,
      totalSteps: 12,
      cycleMomentum: false,
    });
    expect(() => plain.loadStateDict(good)).toThrow(/^OneCycleLR: stateDict.cycleMomentum: expected false/);
  });
});
