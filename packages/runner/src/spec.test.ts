import { optimizerKinds } from "@nabla/optim";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { SpecError } from "./errors.js";
import { canonicalJson, shapingSpec } from "./fingerprint.js";
import { DEFAULTS, expandSweep, parseSpec } from "./spec.js";

function messageOf(input: unknown): string {
  try {
    parseSpec(input, "exp.json");
  } catch (err) {
    expect(err).toBeInstanceOf(SpecError);
    return (err as Error).message;
  }
  throw new Error("expected the spec to be rejected");
}

describe("parseSpec", () => {
  test("fills in the assignment's defaults", () => {
    const spec = parseSpec({ name: "q3" });
    expect(spec).toEqual({
      name: "q3",
      model: { kind: "mlp", hiddenDims: [128] },
      optimizer: { kind: "sgd", momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 },
      lr: 0.1,
      batchSize: 128,
      epochs: 10,
      seed: 42,
      data: { source: "cifar10", splitSeed: 42, validationSize: 5000 },
    });
    expect(DEFAULTS.hiddenDims).toEqual([128]);
  });

  test("partial objects take the default kind", () => {
    expect(parseSpec({ name: "a", model: { hiddenDims: [256, 64] } }).model).toEqual({
      kind: "mlp",
      hiddenDims: [256, 64],
    });
    expect(parseSpec({ name: "a", optimizer: { momentum: 0.9 } }).optimizer).toMatchObject({
      kind: "sgd",
      momentum: 0.9,
    });
    expect(parseSpec({ name: "a", model: { kind: "mlp-tfjs" } }).model).toEqual({
      kind: "mlp-tfjs",
      hiddenDims: [128],
      backend: "wasm",
    });
  });

  test.each([
    [{ name: "a", lr: "fast" }, 'exp.json: lr: expected a number, got "fast"'],
    [{ name: "a", lr: -1 }, "exp.json: lr: expected a number > 0, got -1"],
    [{ name: "a", epochs: 2.5 }, "exp.json: epochs: expected an integer, got 2.5"],
    [
      { name: "a", learningRate: 0.1 },
      "exp.json: learningRate: unknown field (remove it or check its spelling)",
    ],
    [
      { name: "a", optimizer: { kind: "sgd", mometum: 0.9 } },
      "exp.json: optimizer.mometum: unknown field (remove it or check its spelling)",
    ],
    [
      { name: "a", optimizer: { kind: "no_such_optimizer" } },
      `exp.json: optimizer.kind: expected kind to be one of ${optimizerKinds()
        .map((k) => `"${k}"`)
        .join(", ")}, got "no_such_optimizer"`,
    ],
    [
      { name: "a", model: { hiddenDims: [128, 0] } },
      "exp.json: model.hiddenDims[1]: expected a number > 0, got 0",
    ],
    [{ lr: 0.1 }, "exp.json: name: missing (expected a string)"],
    [
      { name: "../x" },
      'exp.json: name: expected a file-name-safe name (letters, digits, . _ = + -), got "../x"',
    ],
    [
      { name: "a", model: { kind: "mlp-tfjs" }, optimizer: { kind: "adam" } },
      'exp.json: optimizer: expected plain SGD ({"kind": "sgd"} without momentum, nesterov or weightDecay) for model "mlp-tfjs"',
    ],
    [
      { name: "a", data: { source: "synthetic", trainCount: 100, testCount: 10 } },
      "exp.json: data.validationSize: expected fewer than trainCount (100) validation images, got 5000",
    ],
    [
      { name: "a", batchSize: 200, data: { validationSize: 49_900 } },
      "exp.json: batchSize: expected at most 100 (the training images left after the split; the last partial batch is dropped), got 200",
    ],
    [
      { name: "a", scheduler: { kind: "multistep", milestones: [5, 3] } },
      "exp.json: scheduler.milestones: expected epochs in non-decreasing order",
    ],
    [
      { name: "a", grid: { lr: [1] } },
      "exp.json: grid: a spec with a grid is a sweep (use runSweep / `nabla sweep`)",
    ],
  ])("rejects %j with one clear line", (input, message) => {
    const text = messageOf(input);
    expect(text.split("\n")).toHaveLength(1);
    expect(text).toBe(message);
  });

  test("counts further problems without listing them", () => {
    expect(messageOf({ name: "a", lr: "x", epochs: 0 })).toMatch(
      /^exp\.json: lr: .* \(and 1 more problem\)$/,
    );
  });

  test("parsing a resolved spec is the identity (results files re-validate)", () => {
    const specArb = fc.record({
      name: fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/),
      lr: fc.double({ min: 1e-6, max: 100, noNaN: true }),
      epochs: fc.integer({ min: 1, max: 50 }),
      batchSize: fc.integer({ min: 1, max: 512 }),
      seed: fc.nat(),
      model: fc.record({ hiddenDims: fc.array(fc.integer({ min: 1, max: 1024 }), { maxLength: 3 }) }),
      optimizer: fc.oneof(
        fc.record({ kind: fc.constant("sgd"), momentum: fc.double({ min: 0, max: 0.99, noNaN: true }) }),
        fc.record({ kind: fc.constant("adam"), eps: fc.double({ min: 1e-10, max: 1e-3, noNaN: true }) }),
      ),
    });
    fc.assert(
      fc.property(specArb, (input) => {
        const once = parseSpec(input);
        expect(parseSpec(once)).toEqual(once);
      }),
      { numRuns: 100 },
    );
  });
});

describe("expandSweep", () => {
  test("expands the cartesian product in order with deterministic names", () => {
    const specs = expandSweep({
      name: "s",
      epochs: 2,
      grid: { lr: [0.001, 0.1], "model.hiddenDims": [[64], [256, 128]] },
    });
    expect(specs.map((s) => s.name)).toEqual([
      "s-lr=0.001-model.hiddenDims=64",
      "s-lr=0.001-model.hiddenDims=256x128",
      "s-lr=0.1-model.hiddenDims=64",
      "s-lr=0.1-model.hiddenDims=256x128",
    ]);
    expect(specs[3]).toMatchObject({ lr: 0.1, epochs: 2, model: { kind: "mlp", hiddenDims: [256, 128] } });
  });

  test("the homework's 9 log-spaced learning rates", () => {
    const lrs = Array.from({ length: 9 }, (_, i) => 10 ** (i - 6));
    const names = expandSweep({ name: "lr", grid: { lr: lrs } }).map((s) => s.name);
    expect(names).toEqual([
      "lr-lr=0.000001",
      "lr-lr=0.00001",
      "lr-lr=0.0001",
      "lr-lr=0.001",
      "lr-lr=0.01",
      "lr-lr=0.1",
      "lr-lr=1",
      "lr-lr=10",
      "lr-lr=100",
    ]);
  });

  test("a bad grid value names the experiment and the field", () => {
    expect(() => expandSweep({ name: "s", grid: { lr: [0.1, "x"] } }, "sweep.json")).toThrow(
      'sweep.json (experiment s-lr=x): lr: expected a number, got "x"',
    );
    expect(() => expandSweep({ name: "s", grid: { lr: [] } }, "sweep.json")).toThrow(
      "sweep.json: grid.lr: expected at least 1 item",
    );
  });
});

describe("cache key material", () => {
  test("does not depend on key order, name, description or the data folder", () => {
    const a = parseSpec({
      name: "a",
      description: "x",
      lr: 0.5,
      data: { source: "cifar10", dir: "/data/a" },
    });
    const b = parseSpec({ data: { dir: "/elsewhere", source: "cifar10" }, lr: 0.5, name: "b" });
    expect(canonicalJson(shapingSpec(a))).toBe(canonicalJson(shapingSpec(b)));
    const c = parseSpec({ name: "a", lr: 0.25 });
    expect(canonicalJson(shapingSpec(a))).not.toBe(canonicalJson(shapingSpec(c)));
  });
});
