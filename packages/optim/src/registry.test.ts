// A new optimizer or scheduler is one class, one schema and one registry entry, written here from test code alone
// (only the public API), then configured and built like the built-ins.
import type { Parameter } from "@nabla/ndarray";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { param } from "../test/fixtures.js";
import {
  createOptimizer,
  createScheduler,
  LRScheduler,
  Optimizer,
  type OptimizerStateBase,
  optimizerConfigSchema,
  optimizerKinds,
  parseOptimizerConfig,
  parseSchedulerConfig,
  registerOptimizer,
  registerScheduler,
  SGD,
  schedulerConfigSchema,
  schedulerKinds,
} from "./index.js";

const signSgdOptions = { lr: z.number().min(0, "expected a number >= 0") };

// The built-in kinds, taken before this file registers its own, so no test here lists them (a new built-in
// would otherwise break it).
const builtinOptimizers = optimizerKinds();
const builtinSchedulers = schedulerKinds();
const quoted = (kinds: string[]) => kinds.map((k) => JSON.stringify(k)).join(", ");
const exactly = (message: string) => new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);

/** signSGD (Bernstein et al. 2018): p -= lr * sign(g). */
class SignSGD extends Optimizer {
  constructor(params: Parameter[], options: { lr: number }) {
    super("SignSGD", params, z.strictObject(signSgdOptions).parse(options).lr);
  }

  step(): void {
    for (const p of this.params) {
      const w = p.value.data;
      const g = p.grad.data;
      for (let i = 0; i < w.length; i++) w[i] -= this.lr * Math.sign(g[i]);
    }
  }

  stateDict(): OptimizerStateBase {
    return { type: "SignSGD", lr: this.lr, initialLr: this.initialLr ?? null };
  }

  loadStateDict(state: unknown): void {
    this.restoreHeader(this.checkStateHeader({ state: {}, ...(state as object) }));
  }
}

const constantFactorOptions = z.strictObject({
  factor: z.number().gt(0, "expected a number > 0").max(1, "expected a number <= 1"),
});

/** lr = baseLr * factor at every epoch (torch's ConstantLR without its end). */
class ConstantFactorLR extends LRScheduler {
  factor = 1;
  protected readonly optionsSchema = constantFactorOptions;

  constructor(optimizer: Optimizer, options: { factor: number }) {
    super("ConstantFactorLR", optimizer);
    this.applyOptions(options);
    this.initialStep();
  }

  protected getLr(): number {
    return this.closedFormLr();
  }

  protected closedFormLr(): number {
    return this.baseLrs[0] * this.factor;
  }

  protected hyperparameters(): Record<string, unknown> {
    return { factor: this.factor };
  }

  protected setHyperparameters(o: { factor: number }): void {
    this.factor = o.factor;
  }
}

registerOptimizer({
  kind: "sign-sgd",
  schema: z.strictObject({ kind: z.literal("sign-sgd"), ...signSgdOptions }),
  create: (config, params) => new SignSGD(params, { lr: config.lr }),
});

registerScheduler({
  kind: "constant-factor",
  schema: z.strictObject({ kind: z.literal("constant-factor"), factor: constantFactorOptions.shape.factor }),
  create: (config, optimizer) => new ConstantFactorLR(optimizer, { factor: config.factor }),
});

describe("registering an optimizer and a scheduler from user code", () => {
  it("adds their kinds after the built-ins", () => {
    expect(optimizerKinds()).toEqual([...builtinOptimizers, "sign-sgd"]);
    expect(schedulerKinds()).toEqual([...builtinSchedulers, "constant-factor"]);
  });

  it("accepts their configs in the schemas built after registering, and builds and runs them", () => {
    expect(optimizerConfigSchema().parse({ kind: "sign-sgd", lr: 0.5 })).toEqual({
      kind: "sign-sgd",
      lr: 0.5,
    });
    expect(schedulerConfigSchema().safeParse({ kind: "constant-factor", factor: 0.5 }).success).toBe(true);
    const p = param("w", Float64Array.from([1, 1, 1]), Float64Array.from([3, -0.1, 0]));
    const optimizer = createOptimizer({ kind: "sign-sgd", lr: 0.5 }, [p]);
    expect(optimizer).toBeInstanceOf(SignSGD);
    const scheduler = createScheduler({ kind: "constant-factor", factor: 0.5 }, optimizer);
    expect(optimizer.lr).toBe(0.25);
    optimizer.step();
    scheduler.step();
    expect(Array.from(p.value.data)).toEqual([0.75, 1.25, 1]);
    expect(scheduler.getLastLr()).toEqual([0.25]);
  });

  it("checks their fields with their own schema, formatted like the built-ins'", () => {
    expect(() => parseOptimizerConfig({ kind: "sign-sgd", lr: -1 }, "exp.json")).toThrow(
      /^exp.json: optimizer.lr: expected a number >= 0, got -1$/,
    );
    expect(() => parseSchedulerConfig({ kind: "constant-factor", factor: 0 })).toThrow(
      /^scheduler.factor: expected a number > 0, got 0$/,
    );
    expect(() =>
      createOptimizer({ kind: "sign-sgd", lr: 0.1, momentum: 0.9 }, [param("w", new Float64Array(1))]),
    ).toThrow(/^optimizer.momentum: unknown field/);
  });

  it("chains a registered LRScheduler in a sequential config", () => {
    const optimizer = new SGD([param("w", new Float64Array(1))], { lr: 1 });
    const scheduler = createScheduler(
      {
        kind: "sequential",
        schedulers: [
          { kind: "constant-factor", factor: 0.1 },
          { kind: "step", stepSize: 2, gamma: 0.5 },
        ],
        milestones: [3],
      },
      optimizer,
    );
    const lrs = [scheduler.getLastLr()[0]];
    for (let e = 1; e < 7; e++) {
      scheduler.step();
      lrs.push(scheduler.getLastLr()[0]);
    }
    expect(lrs).toEqual([0.1, 0.1, 0.1, 1, 1, 0.5, 0.5]);
  });

  it("lists the registered kinds, user ones included, when a kind is wrong or missing", () => {
    expect(() => parseOptimizerConfig({ kind: "rmsprop" })).toThrow(
      exactly(
        `optimizer.kind: expected kind to be one of ${quoted([...builtinOptimizers, "sign-sgd"])}, got "rmsprop"`,
      ),
    );
    expect(() =>
      createScheduler({ factor: 0.5 } as never, new SGD([param("w", new Float64Array(1))], { lr: 1 })),
    ).toThrow(
      exactly(
        `scheduler.kind: expected kind to be one of ${quoted([...builtinSchedulers, "constant-factor"])}, got nothing`,
      ),
    );
  });

  it("rejects a kind registered twice and an entry whose schema does not name its kind", () => {
    const entry = {
      kind: "sign-sgd",
      schema: z.strictObject({ kind: z.literal("sign-sgd") }),
      create: () => ({}),
    };
    expect(() => registerOptimizer(entry as never)).toThrow(
      /^registerOptimizer: kind: expected a kind not registered yet, got "sign-sgd"$/,
    );
    expect(() =>
      registerScheduler({
        kind: "other",
        schema: z.strictObject({ kind: z.literal("another") }),
        create: () => ({}) as never,
      }),
    ).toThrow(/^registerScheduler: schema: expected a z.strictObject with kind: z.literal\("other"\)/);
    expect(() =>
      registerScheduler({
        kind: "",
        schema: z.strictObject({ kind: z.literal("") }),
        create: () => ({}) as never,
      }),
    ).toThrow(/^registerScheduler: kind: expected a non-empty string, got ""$/);
    expect(optimizerKinds()).toEqual([...builtinOptimizers, "sign-sgd"]);
    expect(schedulerKinds()).toEqual([...builtinSchedulers, "constant-factor"]);
  });
});
