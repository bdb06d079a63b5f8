// Invalid arguments throw OptimError with a one-line message naming the argument, as torch raises ValueError.
import { fromTypedArray, type Parameter } from "@nabla/ndarray";
import { describe, expect, it } from "vitest";
import { param } from "../test/fixtures.js";
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

const params = () => [param("w", new Float64Array(3))];

export function expectOptimError(fn: () => unknown, argument: string, messagePart: RegExp): void {
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
  it("rejects a negative or non-finite lr, in the options and when set", () => {
    expectOptimError(
      () => new SGD(params(), { lr: -0.1 }),
      "lr",
      /^SGD: lr: expected a number >= 0, got -0.1$/,
    );
    expectOptimError(() => new SGD(params(), { lr: Number.NaN }), "lr", /expected a finite number, got NaN/);
    expectOptimError(() => new SGD(params(), {} as never), "lr", /^SGD: lr: expected a number, got nothing$/);
    expectOptimError(() => new Adam(params(), { lr: -1 }), "lr", /^Adam: lr/);
    expectOptimError(() => new AdamW(params(), { lr: Number.POSITIVE_INFINITY }), "lr", /^AdamW: lr/);
    const opt = new SGD(params(), { lr: 0.1 });
    expectOptimError(
      () => {
        opt.lr = -1;
      },
      "lr",
      /^SGD: lr: expected a number >= 0, got -1$/,
    );
    expect(opt.lr).toBe(0.1);
    expect(() => new SGD(params(), { lr: 0 })).not.toThrow();
  });

  it("rejects a negative momentum and accepts any momentum >= 0, as torch", () => {
    expectOptimError(
      () => new SGD(params(), { lr: 0.1, momentum: -0.5 }),
      "momentum",
      /^SGD: momentum: expected a number >= 0, got -0.5$/,
    );
    expect(() => new SGD(params(), { lr: 0.1, momentum: 0.99 })).not.toThrow();
    expect(() => new SGD(params(), { lr: 0.1, momentum: 1.5 })).not.toThrow();
  });

  it("rejects nesterov without momentum or with dampening", () => {
    expectOptimError(
      () => new SGD(params(), { lr: 0.1, nesterov: true }),
      "nesterov",
      /expected momentum > 0 and dampening 0 for Nesterov momentum, got momentum 0 and dampening 0$/,
    );
    expectOptimError(
      () => new SGD(params(), { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }),
      "nesterov",
      /dampening 0\.1$/,
    );
  });

  it("rejects bad dampening, weight decay and unknown fields", () => {
    expectOptimError(
      () => new SGD(params(), { lr: 0.1, momentum: 0.9, dampening: 1.5 }),
      "dampening",
      /expected a number in \[0, 1\], got 1.5/,
    );
    expectOptimError(() => new SGD(params(), { lr: 0.1, weightDecay: -1e-4 }), "weightDecay", />= 0/);
    expectOptimError(() => new AdamW(params(), { weightDecay: -1 }), "weightDecay", />= 0/);
    expectOptimError(
      () => new SGD(params(), { lr: 0.1, weight_decay: 1 } as never),
      "weight_decay",
      /^SGD: weight_decay: unknown field/,
    );
    expectOptimError(
      () => new SGD(params(), 3 as never),
      "options",
      /^SGD: options: expected an object, got 3$/,
    );
  });

  it("rejects bad betas and eps < 0", () => {
    expectOptimError(
      () => new Adam(params(), { betas: [1, 0.999] }),
      "betas[0]",
      /expected a number in \[0, 1\), got 1$/,
    );
    expectOptimError(() => new Adam(params(), { betas: [0.9, -0.1] }), "betas[1]", /got -0.1/);
    expectOptimError(() => new Adam(params(), { betas: [0.9] as never }), "betas", /expected a pair/);
    expectOptimError(() => new AdamW(params(), { eps: -1e-8 }), "eps", />= 0/);
    expect(() => new Adam(params(), { eps: 0 })).not.toThrow();
  });
});

describe("parameter validation", () => {
  const t = (a: Float64Array | Float32Array) => fromTypedArray(a, [a.length]);

  it("rejects malformed parameter lists", () => {
    expectOptimError(() => new SGD([], { lr: 0.1 }), "params", /non-empty/);
    const a = params()[0];
    expectOptimError(() => new SGD([a, { ...a }], { lr: 0.1 }), "params[1].name", /unique/);
    expectOptimError(
      () =>
        new SGD([{ name: "b", value: t(new Float64Array(3)), grad: t(new Float64Array(2)) }], { lr: 0.1 }),
      "params[0].grad (b)",
      /expected as many values as value \(3\), got "2"/,
    );
  });

  it("rejects typed arrays (the old adapter) and non-float tensors", () => {
    const bare = { name: "c", value: new Float64Array(2), grad: new Float64Array(2) } as unknown as Parameter;
    expectOptimError(
      () => new SGD([bare], { lr: 0.1 }),
      "params[0].value (c)",
      /^SGD: params\[0\]\.value \(c\): expected a tensor over a Float32Array or Float64Array, got a Float64Array$/,
    );
    const ints = { name: "d", value: { data: new Int32Array(2) }, grad: t(new Float64Array(2)) };
    expectOptimError(() => new SGD([ints as never], { lr: 0.1 }), "params[0].value (d)", /got an object/);
  });

  it("rejects views that do not cover their buffer: an offset, a transpose, a prefix", () => {
    const storage = new Float64Array(6);
    const grad = t(new Float64Array(6));
    const offset = { name: "e", value: fromTypedArray(storage, [6]).lo(1), grad: t(new Float64Array(5)) };
    expectOptimError(
      () => new SGD([offset], { lr: 0.1 }),
      "params[0].value (e)",
      /offset 0 covering its whole buffer .*, got "offset 1, 5 of 6 values"$/,
    );
    const transposed = { name: "f", value: fromTypedArray(storage, [2, 3]).transpose(1, 0), grad };
    expectOptimError(() => new SGD([transposed], { lr: 0.1 }), "params[0].value (f)", /contiguous/);
    const prefix = { name: "g", value: fromTypedArray(storage, [6]).hi(4), grad: t(new Float64Array(4)) };
    expectOptimError(() => new SGD([prefix], { lr: 0.1 }), "params[0].value (g)", /4 of 6 values/);
  });

  it("updates a 2-D parameter in place through its tensor", () => {
    const value = fromTypedArray(Float64Array.from([1, 2, 3, 4]), [2, 2]);
    const grad = fromTypedArray(Float64Array.from([1, 1, 1, 1]), [2, 2]);
    const data = value.data;
    new SGD([{ name: "w", value, grad }], { lr: 0.5 }).step();
    expect(value.data).toBe(data);
    expect(Array.from(value.data)).toEqual([0.5, 1.5, 2.5, 3.5]);
    expect(value.get(1, 0)).toBe(2.5);
  });
});

describe("scheduler argument validation", () => {
  const opt = () => new SGD(params(), { lr: 0.1 });

  it("rejects unsorted milestones and accepts repeated ones (torch decays once per occurrence)", () => {
    expectOptimError(
      () => new MultiStepLR(opt(), { milestones: [30, 10], gamma: 0.1 }),
      "milestones",
      /^MultiStepLR: milestones: expected epochs in non-decreasing order, got \[30,10\]$/,
    );
    expectOptimError(() => new MultiStepLR(opt(), { milestones: [1.5] }), "milestones[0]", /integer/);
    expect(() => new MultiStepLR(opt(), { milestones: [0, 10, 10] })).not.toThrow();
  });

  it("rejects T_max <= 0 and negative eta_min", () => {
    expectOptimError(
      () => new CosineAnnealingLR(opt(), { tMax: 0 }),
      "tMax",
      /expected an integer >= 1, got 0/,
    );
    expectOptimError(() => new CosineAnnealingLR(opt(), { tMax: -5 }), "tMax", /got -5/);
    expectOptimError(() => new CosineAnnealingLR(opt(), { tMax: 10, etaMin: -1 }), "etaMin", />= 0/);
  });

  it("rejects bad step sizes, gammas and LinearLR factors", () => {
    expectOptimError(() => new StepLR(opt(), { stepSize: 0 }), "stepSize", /integer >= 1/);
    expectOptimError(() => new StepLR(opt(), { stepSize: 2, gamma: -0.1 }), "gamma", />= 0, got -0.1/);
    expectOptimError(() => new ExponentialLR(opt(), { gamma: Number.NaN }), "gamma", /finite/);
    expectOptimError(() => new LinearLR(opt(), { startFactor: 0 }), "startFactor", /\(0, 1\]/);
    expectOptimError(() => new LinearLR(opt(), { endFactor: 1.5 }), "endFactor", /\[0, 1\]/);
    expectOptimError(() => new LinearLR(opt(), { totalIters: 0 }), "totalIters", /integer >= 1/);
    expectOptimError(() => new StepLR({} as never, { stepSize: 1 }), "optimizer", /an Optimizer/);
    expectOptimError(
      () => new StepLR(opt(), { stepSize: 1, kind: "step" } as never),
      "kind",
      /unknown field/,
    );
  });

  it("rejects inconsistent SequentialLR arguments", () => {
    const o = opt();
    const warm = new LinearLR(o, { startFactor: 0.1 });
    const decay = new ExponentialLR(o, { gamma: 0.9 });
    expectOptimError(
      () => new SequentialLR(o, { schedulers: [warm, decay], milestones: [] }),
      "milestones",
      /expected 1 epoch \(one fewer than schedulers\), got \[\]/,
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
    expectOptimError(
      () => new SequentialLR(o, { schedulers: [warm, {} as never], milestones: [5] }),
      "schedulers[1]",
      /expected a StepLR/,
    );
  });
});
