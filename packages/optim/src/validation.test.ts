// Invalid arguments throw OptimError with a one-line message naming the argument, as torch raises ValueError.
import { describe, expect, it } from "vitest";
import {
  Adam,
  AdamW,
  CosineAnnealingLR,
  ExponentialLR,
  LinearLR,
  MultiStepLR,
  OptimError,
  SequentialLR,
  SGD,
  StepLR,
} from "./index.js";

const params = () => [{ name: "w", value: new Float64Array(3), grad: new Float64Array(3) }];

function expectOptimError(fn: () => unknown, argument: string, messagePart: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(OptimError);
  const err = caught as OptimError;
  expect(err.argument).toBe(argument);
  expect(err.message).toMatch(messagePart);
  expect(err.message).toContain(argument);
  expect(err.message).not.toContain("\n");
}

describe("optimizer argument validation", () => {
  it("rejects a negative or non-finite lr", () => {
    expectOptimError(
      () => new SGD(params(), { lr: -0.1 }),
      "lr",
      /^SGD: lr must be a finite number >= 0, got -0.1$/,
    );
    expectOptimError(() => new SGD(params(), { lr: Number.NaN }), "lr", /got NaN/);
    expectOptimError(() => new Adam(params(), { lr: -1 }), "lr", /^Adam: lr/);
    expectOptimError(() => new AdamW(params(), { lr: Number.POSITIVE_INFINITY }), "lr", /^AdamW: lr/);
    const opt = new SGD(params(), { lr: 0.1 });
    expectOptimError(
      () => {
        opt.lr = -1;
      },
      "lr",
      /got -1/,
    );
    expect(opt.lr).toBe(0.1);
  });

  it("rejects momentum outside [0, 1)", () => {
    expectOptimError(
      () => new SGD(params(), { lr: 0.1, momentum: -0.5 }),
      "momentum",
      /in \[0, 1\), got -0.5/,
    );
    expectOptimError(() => new SGD(params(), { lr: 0.1, momentum: 1 }), "momentum", /in \[0, 1\), got 1$/);
    expect(() => new SGD(params(), { lr: 0.1, momentum: 0.99 })).not.toThrow();
  });

  it("rejects nesterov without momentum or with dampening", () => {
    expectOptimError(() => new SGD(params(), { lr: 0.1, nesterov: true }), "nesterov", /requires a momentum/);
    expectOptimError(
      () => new SGD(params(), { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }),
      "nesterov",
      /zero dampening/,
    );
  });

  it("rejects bad dampening and weight decay", () => {
    expectOptimError(
      () => new SGD(params(), { lr: 0.1, momentum: 0.9, dampening: 1.5 }),
      "dampening",
      /\[0, 1\]/,
    );
    expectOptimError(() => new SGD(params(), { lr: 0.1, weightDecay: -1e-4 }), "weightDecay", />= 0/);
    expectOptimError(() => new AdamW(params(), { weightDecay: -1 }), "weightDecay", />= 0/);
  });

  it("rejects bad betas and eps < 0", () => {
    expectOptimError(() => new Adam(params(), { betas: [1, 0.999] }), "betas[0]", /in \[0, 1\), got 1/);
    expectOptimError(() => new Adam(params(), { betas: [0.9, -0.1] }), "betas[1]", /got -0.1/);
    expectOptimError(() => new Adam(params(), { betas: [0.9] as never }), "betas", /pair/);
    expectOptimError(() => new AdamW(params(), { eps: -1e-8 }), "eps", />= 0/);
  });

  it("rejects malformed parameter lists", () => {
    expectOptimError(() => new SGD([], { lr: 0.1 }), "params", /non-empty/);
    const a = params()[0];
    expectOptimError(() => new SGD([a, { ...a }], { lr: 0.1 }), "params[1].name", /unique/);
    expectOptimError(
      () => new SGD([{ name: "b", value: new Float64Array(3), grad: new Float64Array(2) }], { lr: 0.1 }),
      "params[0].grad (b)",
      /same length as value \(3\), got "length 2"/,
    );
    expectOptimError(
      () => new SGD([{ name: "c", value: [1, 2] as never, grad: new Float64Array(2) }], { lr: 0.1 }),
      "params[0].value (c)",
      /Float32Array or Float64Array/,
    );
  });
});

describe("scheduler argument validation", () => {
  const opt = () => new SGD(params(), { lr: 0.1 });

  it("rejects unsorted milestones", () => {
    expectOptimError(
      () => new MultiStepLR(opt(), { milestones: [30, 10], gamma: 0.1 }),
      "milestones",
      /sorted in increasing order, got \[30,10\]/,
    );
    expectOptimError(() => new MultiStepLR(opt(), { milestones: [1.5] }), "milestones[0]", /integer/);
  });

  it("rejects T_max <= 0 and negative eta_min", () => {
    expectOptimError(() => new CosineAnnealingLR(opt(), { tMax: 0 }), "tMax", /positive integer, got 0/);
    expectOptimError(() => new CosineAnnealingLR(opt(), { tMax: -5 }), "tMax", /got -5/);
    expectOptimError(() => new CosineAnnealingLR(opt(), { tMax: 10, etaMin: -1 }), "etaMin", />= 0/);
  });

  it("rejects bad step sizes, gammas and LinearLR factors", () => {
    expectOptimError(() => new StepLR(opt(), { stepSize: 0 }), "stepSize", /positive integer/);
    expectOptimError(() => new ExponentialLR(opt(), { gamma: Number.NaN }), "gamma", /finite/);
    expectOptimError(() => new LinearLR(opt(), { startFactor: 0 }), "startFactor", /\(0, 1\]/);
    expectOptimError(() => new LinearLR(opt(), { endFactor: 1.5 }), "endFactor", /\[0, 1\]/);
    expectOptimError(() => new LinearLR(opt(), { totalIters: 0 }), "totalIters", /positive integer/);
    expectOptimError(() => new StepLR({} as never, { stepSize: 1 }), "optimizer", /SGD, Adam or AdamW/);
  });

  it("rejects inconsistent SequentialLR arguments", () => {
    const o = opt();
    const warm = new LinearLR(o, { startFactor: 0.1 });
    const decay = new ExponentialLR(o, { gamma: 0.9 });
    expectOptimError(
      () => new SequentialLR(o, { schedulers: [warm, decay], milestones: [] }),
      "milestones",
      /one fewer than schedulers/,
    );
    expectOptimError(
      () => new SequentialLR(opt(), { schedulers: [warm, decay], milestones: [5] }),
      "schedulers[0].optimizer",
      /the optimizer passed/,
    );
    const third = new StepLR(o, { stepSize: 3 });
    expectOptimError(
      () => new SequentialLR(o, { schedulers: [warm, decay, third], milestones: [5, 5] }),
      "milestones",
      /strictly increasing/,
    );
  });
});
