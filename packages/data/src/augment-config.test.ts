import { Rng } from "@nabla/ndarray";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { arrayDataset } from "./array.js";
import {
  augmentBatches,
  checkAugment,
  registeredTransforms,
  registerTransform,
  type TransformDefinition,
} from "./augment.js";
import { DataError } from "./errors.js";
import { dataCacheIdentity, dataConfigSchema, datasetInfo, registerDataset } from "./registry.js";
import { deriveAugmentSeed } from "./seed.js";

const CIFAR_LIKE = [{ randomCrop: { padding: 4 } }, "horizontalFlip"];
const schemaParse = (input: unknown) => dataConfigSchema().parse(input);

// Sources for the config schema: images, and flat examples a crop cannot take.
registerDataset({
  name: "augtest-images",
  schema: z.strictObject({ side: z.number().int().positive().default(4) }),
  info: (c: { side: number }) => ({
    featureShape: [3, c.side, c.side],
    classNames: ["a"],
    splitSizes: { train: 1, test: 1 },
  }),
  load: () => Promise.reject(new Error("not loaded in these tests")),
});
registerDataset({
  name: "augtest-flat",
  schema: z.strictObject({}),
  info: () => ({ featureShape: [6], classNames: ["a"], splitSizes: { train: 1, test: 1 } }),
  load: () => Promise.reject(new Error("not loaded in these tests")),
});

function firstIssue(input: unknown): { path: PropertyKey[]; message: string } {
  const r = dataConfigSchema().safeParse(input);
  if (r.success) throw new Error(`expected ${JSON.stringify(input)} to be refused`);
  return { path: r.error.issues[0].path, message: r.error.issues[0].message };
}

describe("data.augment in the data config", () => {
  const schema = () => dataConfigSchema();

  it("parses to { name: config } with the defaults, idempotently; [] and absence give the same config", () => {
    const parsed = schema().parse({ source: "augtest-images", augment: CIFAR_LIKE });
    expect(parsed).toEqual({
      source: "augtest-images",
      side: 4,
      augment: [{ randomCrop: { padding: 4 } }, { horizontalFlip: { p: 0.5 } }],
    });
    expect(schema().parse(JSON.parse(JSON.stringify(parsed)))).toEqual(parsed);
    const sized = schema().parse({
      source: "augtest-images",
      augment: [{ randomCrop: { size: 4, padding: 1 } }],
    });
    expect(sized.augment).toEqual([{ randomCrop: { size: 4, padding: 1 } }]);
    const without = schema().parse({ source: "augtest-images" });
    expect(without).toEqual({ source: "augtest-images", side: 4 });
    expect("augment" in without).toBe(false);
    const empty = schema().parse({ source: "augtest-images", augment: [] });
    expect(Object.keys(empty)).toEqual(["source", "side"]);
    // The source never sees augment; the results cache key does.
    expect(datasetInfo(parsed).featureShape).toEqual([3, 4, 4]);
    expect(dataCacheIdentity(without)).toEqual({ source: "augtest-images", side: 4 });
    expect(dataCacheIdentity(parsed)).toEqual({ ...without, augment: parsed.augment });
  });

  it("checks each transform against the source's featureShape before anything is read, at augment[i]", () => {
    expect(firstIssue({ source: "augtest-flat", augment: ["horizontalFlip"] })).toEqual({
      path: ["augment", 0],
      message: "horizontalFlip: expected images of shape [C, H, W], got featureShape [6]",
    });
    const size = firstIssue({
      source: "augtest-images",
      side: 8,
      augment: ["horizontalFlip", { randomCrop: { size: 6, padding: 4 } }],
    });
    expect(size.path).toEqual(["augment", 1]);
    expect(size.message).toMatch(
      /^randomCrop: size: expected 8 \(the image's height and width: .*\), got 6$/,
    );
    expect(firstIssue({ source: "augtest-images", augment: ["no_such_transform"] })).toEqual({
      path: ["augment", 0],
      message: `unknown transform "no_such_transform"; expected one of ${registeredTransforms()
        .map((n) => `"${n}"`)
        .join(", ")}`,
    });
    expect(firstIssue({ source: "augtest-images", augment: "horizontalFlip" }).path).toEqual(["augment"]);
  });

  it("sources may not declare an augment field of their own", () => {
    expect(() =>
      registerDataset({
        name: "augtest-clash",
        schema: z.strictObject({ augment: z.boolean() }),
        info: () => ({ featureShape: [1], classNames: ["a"], splitSizes: {} }),
        load: () => Promise.reject(new Error("unused")),
      }),
    ).toThrow(
      'registerDataset: augtest-clash.schema: expected no "augment" field (the registry adds the transforms of every source)',
    );
  });
});

describe("errors", () => {
  const shape = [3, 32, 32];
  const cases: [unknown, readonly number[], string][] = [
    [
      [{ randomCrop: { padding: 4 } }],
      [3072],
      "checkAugment: data.augment[0]: randomCrop: expected images of shape [C, H, W], got featureShape [3072]",
    ],
    [
      ["horizontalFlip", { randomCrop: { size: [28, 28], padding: 4 } }],
      shape,
      "checkAugment: data.augment[1]: randomCrop: size: expected 32 (the image's height and width: a crop keeps the sample shape, which validation and test batches and the model share), got [28, 28]",
    ],
    [
      ["randomCrop"],
      shape,
      "checkAugment: data.augment[0]: randomCrop (the bare name means randomCrop: {}): padding: expected a non-negative integer (pixels of padding on each side), e.g. 4",
    ],
    [
      [{ randomCrop: { padding: -1 } }],
      shape,
      "checkAugment: data.augment[0]: randomCrop: padding: expected a non-negative integer (pixels of padding on each side), e.g. 4",
    ],
    [
      [{ horizontalFlip: { p: 2 } }],
      shape,
      "checkAugment: data.augment[0]: horizontalFlip: p: expected a probability in [0, 1]",
    ],
    [
      [{ horizontalFlip: {}, randomCrop: {} }],
      shape,
      "checkAugment: data.augment[0]: a transform object needs exactly one key",
    ],
    [
      ["horizontalFlip", 3],
      shape,
      "checkAugment: data.augment[1]: a transform is a name or a one-key object, got 3",
    ],
    [
      { randomCrop: 4 },
      shape,
      'checkAugment: data.augment: expected a list of transforms such as [{"randomCrop"',
    ],
    [
      [{ horizontalFlip: { q: 1 } }],
      shape,
      'checkAugment: data.augment[0]: horizontalFlip: Unrecognized key: "q"',
    ],
  ];

  it.each(cases)("%j on %j", (augment, featureShape, message) => {
    let error: unknown;
    try {
      checkAugment(augment, featureShape);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DataError);
    expect((error as Error).message.startsWith(message)).toBe(true);
    expect((error as Error).message).not.toContain("\n");
  });
});

describe("the transform registry", () => {
  /** A user transform: adds a per-example offset drawn from the stream. */
  const jitter: TransformDefinition<{ amount: number }> = {
    schema: z.strictObject({ amount: z.number().positive().default(1) }),
    check: (_config, featureShape) => (featureShape.length === 1 ? undefined : "expected flat examples"),
    build: (config, ctx) => {
      const f = ctx.featureShape[0];
      return (x, size, rng) => {
        for (let i = 0; i < size; i++) {
          const offset = rng.uniform() * config.amount;
          for (let k = 0; k < f; k++) x[i * f + k] += offset;
        }
      };
    },
  };

  it("accepts a transform registered from user code, in specs, checks and streams", () => {
    registerTransform("jitterTest", jitter);
    registerTransform("jitterTest", jitter);
    expect(registeredTransforms()).toContain("jitterTest");
    expect(() => registerTransform("jitterTest", { ...jitter })).toThrow(
      'registerTransform: name: expected a new name, transform "jitterTest" is already registered',
    );
    expect(() => registerTransform("no such", jitter)).toThrow(/^registerTransform: name: expected letters/);
    expect(() => registerTransform("broken", { schema: z.unknown() } as never)).toThrow(
      "registerTransform: broken: expected a zod schema and a build(config, ctx) function",
    );
    expect(() => checkAugment(["no_such_transform"], [6])).toThrow(/expected one of .*"jitterTest"/);
    expect(schemaParse({ source: "augtest-flat", augment: ["jitterTest"] }).augment).toEqual([
      { jitterTest: { amount: 1 } },
    ]);
    expect(() => checkAugment(["jitterTest"], [3, 4, 4])).toThrow(
      "checkAugment: data.augment[0]: jitterTest: expected flat examples",
    );

    const x = new Float32Array(12);
    const data = arrayDataset({
      name: "flat",
      featureShape: [6],
      classNames: ["a"],
      train: { x, labels: [0, 0] },
      test: { x, labels: [0, 0] },
    });
    const stream = augmentBatches(
      data.splits.train.batches({ batchSize: 2, shuffle: false, dropLast: true }),
      [{ jitterTest: { amount: 2 } }],
      { featureShape: [6], seed: 5 },
    );
    const rng = new Rng(deriveAugmentSeed(5, 1));
    const offsets = [rng.uniform() * 2, rng.uniform() * 2].map(Math.fround);
    expect(Array.from([...stream.epoch(1)][0].x)).toEqual([
      ...new Array(6).fill(offsets[0]),
      ...new Array(6).fill(offsets[1]),
    ]);
  });
});
