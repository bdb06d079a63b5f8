// Configs: the schemas' defaults and bounds, their one-line errors, and that a schema accepts exactly the options
// its class's constructor accepts (both are the same zod schema, this keeps it so).
import fc from "fast-check";
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
  type Optimizer,
  optimizerConfigSchema,
  parseOptimizerConfig,
  parseSchedulerConfig,
  SGD,
  StepLR,
  schedulerConfigSchema,
} from "./index.js";

const params = () => [param("w", new Float64Array(2))];
const sgd = () => new SGD(params(), { lr: 0.1 });

describe("defaults", () => {
  it("fill in every optimizer field as the runner's spec did, lr as torch (required for SGD, 1e-3 for Adam)", () => {
    expect(parseOptimizerConfig({ kind: "sgd", lr: 0.1 })).toEqual({
      kind: "sgd",
      lr: 0.1,
      momentum: 0,
      dampening: 0,
      nesterov: false,
      weightDecay: 0,
    });
    const adam = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, amsgrad: false };
    expect(parseOptimizerConfig({ kind: "adam" })).toEqual({ kind: "adam", ...adam, weightDecay: 0 });
    expect(parseOptimizerConfig({ kind: "adamw" })).toEqual({ kind: "adamw", ...adam, weightDecay: 0.01 });
    expect(() => parseOptimizerConfig({ kind: "sgd" })).toThrow(
      /^optimizer.lr: expected a number, got nothing$/,
    );
  });

  it("fill in every scheduler field", () => {
    expect(parseSchedulerConfig({ kind: "step", stepSize: 3 })).toEqual({
      kind: "step",
      stepSize: 3,
      gamma: 0.1,
    });
    expect(parseSchedulerConfig({ kind: "multistep", milestones: [2] })).toEqual({
      kind: "multistep",
      milestones: [2],
      gamma: 0.1,
    });
    expect(parseSchedulerConfig({ kind: "cosine", tMax: 9 })).toEqual({ kind: "cosine", tMax: 9, etaMin: 0 });
    expect(parseSchedulerConfig({ kind: "linear" })).toEqual({
      kind: "linear",
      startFactor: 1 / 3,
      endFactor: 1,
      totalIters: 5,
    });
    expect(
      parseSchedulerConfig({ kind: "sequential", schedulers: [{ kind: "linear" }], milestones: [] }),
    ).toEqual({
      kind: "sequential",
      schedulers: [{ kind: "linear", startFactor: 1 / 3, endFactor: 1, totalIters: 5 }],
      milestones: [],
    });
  });

  it("are the constructors' defaults too", () => {
    const s = new SGD(params(), { lr: 0.1 });
    expect([s.momentum, s.dampening, s.nesterov, s.weightDecay]).toEqual([0, 0, false, 0]);
    const a = new Adam(params());
    expect([a.lr, a.betas, a.eps, a.weightDecay, a.amsgrad]).toEqual([1e-3, [0.9, 0.999], 1e-8, 0, false]);
    expect(new AdamW(params()).weightDecay).toBe(0.01);
    const l = new LinearLR(sgd());
    expect([l.startFactor, l.endFactor, l.totalIters]).toEqual([1 / 3, 1, 5]);
    expect(new StepLR(sgd(), { stepSize: 2 }).gamma).toBe(0.1);
    expect(new MultiStepLR(sgd(), { milestones: [] }).gamma).toBe(0.1);
    expect(new CosineAnnealingLR(sgd(), { tMax: 2 }).etaMin).toBe(0);
  });
});

/** [kind, field, accepted, rejected, base config]: the bounds table of the README. */
const BOUNDS: [string, string, unknown[], unknown[], Record<string, unknown>][] = [
  ["sgd", "lr", [0, 0.1, 10], [-1e-9, Number.NaN, Number.POSITIVE_INFINITY, "0.1", undefined], {}],
  ["sgd", "momentum", [0, 0.9, 1, 2], [-0.1, Number.NaN, null], { lr: 0.1 }],
  ["sgd", "dampening", [0, 0.5, 1], [-0.1, 1.01], { lr: 0.1, momentum: 0.9 }],
  ["sgd", "nesterov", [true, false], [1, "yes"], { lr: 0.1, momentum: 0.9 }],
  ["sgd", "weightDecay", [0, 5e-4], [-5e-4], { lr: 0.1 }],
  ["adam", "lr", [0, 1e-3], [-1e-3], {}],
  [
    "adam",
    "betas",
    [
      [0, 0],
      [0.9, 0.999],
      [0.5, 0.999999],
    ],
    [[1, 0.999], [0.9, 1], [-0.1, 0.9], [0.9], [0.9, 0.9, 0.9]],
    {},
  ],
  ["adam", "eps", [0, 1e-8], [-1e-8], {}],
  ["adam", "weightDecay", [0, 0.1], [-0.1], {}],
  ["adam", "amsgrad", [true, false], [0], {}],
  ["adamw", "weightDecay", [0, 0.01], [-0.01], {}],
  ["step", "stepSize", [1, 30], [0, -1, 1.5, undefined], {}],
  ["step", "gamma", [0, 0.1, 2], [-0.1], { stepSize: 1 }],
  ["multistep", "milestones", [[], [0], [10, 20], [10, 10, 30]], [[20, 10], [-1], [1.5], 10, undefined], {}],
  ["multistep", "gamma", [0, 0.5], [-0.5], { milestones: [1] }],
  ["exponential", "gamma", [0, 0.95, 1.1], [-0.1, undefined], {}],
  ["cosine", "tMax", [1, 50], [0, 2.5, undefined], {}],
  ["cosine", "etaMin", [0, 1e-4], [-1e-4], { tMax: 5 }],
  ["linear", "startFactor", [1e-9, 0.5, 1], [0, -0.1, 1.1], {}],
  ["linear", "endFactor", [0, 0.5, 1], [-0.1, 1.1], {}],
  ["linear", "totalIters", [1, 5], [0, 2.5], {}],
];

const OPTIMIZER_CLASSES: Record<string, (o: Record<string, unknown>) => Optimizer> = {
  sgd: (o) => new SGD(params(), o as never),
  adam: (o) => new Adam(params(), o as never),
  adamw: (o) => new AdamW(params(), o as never),
};
const SCHEDULER_CLASSES: Record<string, (o: Record<string, unknown>) => unknown> = {
  step: (o) => new StepLR(sgd(), o as never),
  multistep: (o) => new MultiStepLR(sgd(), o as never),
  exponential: (o) => new ExponentialLR(sgd(), o as never),
  cosine: (o) => new CosineAnnealingLR(sgd(), o as never),
  linear: (o) => new LinearLR(sgd(), o as never),
};

function construct(kind: string, options: Record<string, unknown>): unknown {
  return (OPTIMIZER_CLASSES[kind] ?? SCHEDULER_CLASSES[kind])(options);
}

function schemaAccepts(kind: string, options: Record<string, unknown>): boolean {
  const schema = kind in OPTIMIZER_CLASSES ? optimizerConfigSchema() : schedulerConfigSchema();
  return schema.safeParse({ kind, ...options }).success;
}

function constructorAccepts(kind: string, options: Record<string, unknown>): boolean {
  try {
    construct(kind, options);
    return true;
  } catch (e) {
    if (!(e instanceof OptimError)) throw e;
    return false;
  }
}

describe("bounds, one rule per field", () => {
  for (const [kind, field, accepted, rejected, base] of BOUNDS) {
    it(`${kind}.${field}: accepts ${JSON.stringify(accepted)}, rejects the rest, in the config and the constructor`, () => {
      for (const v of accepted) {
        const o = { ...base, [field]: v };
        expect(schemaAccepts(kind, o), `${field} = ${JSON.stringify(v)}`).toBe(true);
        expect(() => construct(kind, o)).not.toThrow();
      }
      for (const v of rejected) {
        const o = { ...base, [field]: v };
        expect(schemaAccepts(kind, o), `${field} = ${String(v)}`).toBe(false);
        const parse = kind in OPTIMIZER_CLASSES ? parseOptimizerConfig : parseSchedulerConfig;
        const where = kind in OPTIMIZER_CLASSES ? "optimizer" : "scheduler";
        expect(() => parse({ kind, ...o }, "exp.json")).toThrow(
          new RegExp(`^exp.json: ${where}\\.${field}\\b[^\\n]*: expected`),
        );
        expect(() => construct(kind, o)).toThrow(new RegExp(`^\\w+: ${field}\\b[^\\n]*: expected`));
      }
    });
  }
});

/** Any value: inside, on and outside the usual bounds, or not a number at all. */
const anyValue = fc.oneof(
  fc.constantFrom(-1, 0, 1, 1.5, 2, 1e-8, -1e-8, 30, Number.NaN, Number.POSITIVE_INFINITY),
  fc.double({ min: -2, max: 2, noNaN: true }),
  fc.integer({ min: -3, max: 60 }),
  fc.constantFrom(null, "0.1", true, false),
);

/** Mostly a usually valid value (so whole configs are accepted often enough to matter), sometimes any value. */
function field(...usual: unknown[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(undefined, ...usual), weight: 6 },
    { arbitrary: anyValue, weight: 1 },
  );
}

const nonNegative = field(0, 0.1, 1, 3);
const unit = field(0, 0.5, 0.9);
const bool = field(true, false);
const count = field(1, 5, 30);

const betas = fc.oneof(
  { arbitrary: fc.constantFrom(undefined, [0.9, 0.999], [0, 0.5]), weight: 4 },
  { arbitrary: fc.array(anyValue, { maxLength: 3 }), weight: 1 },
);
const milestones = fc.oneof(
  {
    arbitrary: fc
      .array(fc.integer({ min: 0, max: 40 }), { maxLength: 4 })
      .map((m) => m.sort((x, y) => x - y)),
    weight: 4,
  },
  { arbitrary: fc.array(fc.oneof(fc.integer({ min: -1, max: 40 }), anyValue), { maxLength: 4 }), weight: 1 },
);

const FIELDS: Record<string, Record<string, fc.Arbitrary<unknown>>> = {
  sgd: { lr: nonNegative, momentum: nonNegative, dampening: unit, nesterov: bool, weightDecay: nonNegative },
  adam: { lr: nonNegative, betas, eps: nonNegative, weightDecay: nonNegative, amsgrad: bool },
  adamw: { lr: nonNegative, betas, eps: nonNegative, weightDecay: nonNegative, amsgrad: bool },
  step: { stepSize: count, gamma: nonNegative },
  multistep: { milestones, gamma: nonNegative },
  exponential: { gamma: nonNegative },
  cosine: { tMax: count, etaMin: nonNegative },
  linear: { startFactor: unit, endFactor: unit, totalIters: count },
};

const randomConfig = fc.constantFrom(...Object.keys(FIELDS)).chain((kind) =>
  fc
    .tuple(
      fc.record(FIELDS[kind], { requiredKeys: [] }),
      fc.oneof(
        { arbitrary: fc.constant(null), weight: 7 },
        { arbitrary: fc.constantFrom("gama", "weight_decay", "kind"), weight: 1 },
      ),
    )
    .map(([options, extra]) => ({
      kind,
      options: extra === null ? options : { ...options, [extra]: 1 },
    })),
);

describe("the schema accepts exactly what the constructor accepts (property)", () => {
  it("for random configs in and out of bounds, with missing and unknown fields", () => {
    let accepted = 0;
    let rejected = 0;
    fc.assert(
      fc.property(randomConfig, ({ kind, options }) => {
        // the config's own `kind` is its discriminator, not an option: an extra "kind" tests the class only
        const schema = "kind" in options ? false : schemaAccepts(kind, options);
        const ctor = constructorAccepts(kind, options);
        if (!("kind" in options)) expect(ctor).toBe(schema);
        else expect(ctor).toBe(false);
        if (ctor) accepted++;
        else rejected++;
      }),
      { numRuns: 3000, seed: 7 },
    );
    // both outcomes are well represented, so the property is not vacuous
    expect(accepted).toBeGreaterThan(500);
    expect(rejected).toBeGreaterThan(500);
  });

  it("and builds the very values the config parses to", () => {
    const c = parseOptimizerConfig({ kind: "sgd", lr: 0.2, momentum: 0.8, nesterov: true });
    const s = new SGD(params(), { lr: 0.2, momentum: 0.8, nesterov: true });
    expect({
      kind: "sgd",
      lr: s.lr,
      momentum: s.momentum,
      dampening: s.dampening,
      nesterov: s.nesterov,
      weightDecay: s.weightDecay,
    }).toEqual(c);
  });
});

describe("config errors", () => {
  it("are one line naming the source and the path", () => {
    expect(() => parseOptimizerConfig({ kind: "sgd", lr: 0.1, momentum: -1 }, "exp.json")).toThrow(
      /^exp.json: optimizer.momentum: expected a number >= 0, got -1$/,
    );
    expect(() => parseOptimizerConfig({ kind: "adam", betas: [0.9, 1] })).toThrow(
      /^optimizer.betas\[1\]: expected a number in \[0, 1\), got 1$/,
    );
    expect(() => parseOptimizerConfig({ kind: "sgd", lr: 0.1, gama: 1 })).toThrow(
      /^optimizer.gama: unknown field \(remove it or check its spelling\)$/,
    );
    expect(() => parseOptimizerConfig({ kind: "sgd", lr: 0.1, nesterov: true })).toThrow(
      /^optimizer.nesterov: expected momentum > 0 and dampening 0 for Nesterov momentum, got momentum 0 and dampening 0$/,
    );
    expect(() =>
      parseSchedulerConfig({
        kind: "sequential",
        schedulers: [{ kind: "linear" }, { kind: "cosine", tMax: 0 }],
        milestones: [5],
      }),
    ).toThrow(/^scheduler.schedulers\[1\].tMax: expected an integer >= 1, got 0$/);
    expect(() =>
      parseSchedulerConfig({ kind: "sequential", schedulers: [{ kind: "linear" }], milestones: [5] }),
    ).toThrow(/^scheduler.milestones: expected 0 epochs \(one fewer than schedulers\), got \[5\]$/);
    const err = (() => {
      try {
        parseSchedulerConfig({ kind: "step", stepSize: 0, gamma: -1 }, "a.json");
      } catch (e) {
        return e as OptimError;
      }
    })();
    expect(err?.argument).toBe("scheduler.stepSize");
    expect(err?.message).toBe(
      "a.json: scheduler.stepSize: expected an integer >= 1, got 0 (and 1 more problem)",
    );
  });

  it("reject nested SequentialLR and unknown kinds, listing the kinds", () => {
    expect(() =>
      parseSchedulerConfig({
        kind: "sequential",
        schedulers: [{ kind: "sequential", schedulers: [{ kind: "linear" }], milestones: [] }],
        milestones: [],
      }),
    ).toThrow(
      /^scheduler.schedulers\[0\].kind: expected kind to be one of ("[a-z-]+", )*"[a-z-]+", got "sequential"$/,
    );
    // the kinds offered are the chainable ones: neither "sequential" itself nor a per-step kind such as "onecycle"
    const offered = (() => {
      try {
        parseSchedulerConfig({ kind: "sequential", schedulers: [{ kind: "sequential" }], milestones: [] });
      } catch (e) {
        return (e as Error).message.replace(/^.* one of (.*), got .*$/, "$1").split(", ");
      }
    })();
    expect(offered).toContain('"linear"');
    expect(offered).not.toContain('"sequential"');
    expect(offered).not.toContain('"onecycle"');
    expect(() => parseOptimizerConfig({ kind: "rmsprop" }, "exp.json")).toThrow(
      /^exp.json: optimizer.kind: expected kind to be one of "sgd", "adam", "adamw", got "rmsprop"$/,
    );
    expect(() => parseOptimizerConfig({ lr: 0.1 })).toThrow(
      /^optimizer.kind: expected kind to be one of .*, got nothing$/,
    );
  });
});
