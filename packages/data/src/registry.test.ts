import { Rng } from "@nabla/ndarray";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { arrayDataset } from "./array.js";
import {
  type DatasetSource,
  dataCacheIdentity,
  dataConfigSchema,
  datasetInfo,
  datasetNames,
  datasetSource,
  holdoutFields,
  loadDataset,
  registerDataset,
} from "./registry.js";
import { featureSize } from "./types.js";

const FASHION_CLASSES = [
  "t-shirt",
  "trouser",
  "pullover",
  "dress",
  "coat",
  "sandal",
  "shirt",
  "sneaker",
  "bag",
  "boot",
];

/** What a user writes in one module: a Fashion-MNIST-shaped source (1×28×28 bytes), generated in memory. */
const fashionSchema = z
  .strictObject({
    trainCount: z.number().int().positive(),
    testCount: z.number().int().positive(),
    ...holdoutFields,
  })
  .refine((c) => c.validationSize < c.trainCount, {
    path: ["validationSize"],
    message: "expected fewer validation images than trainCount",
  });
type FashionConfig = z.output<typeof fashionSchema>;

function fashionImages(count: number, rng: Rng) {
  const x = new Uint8Array(count * 784);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % 10;
    for (let p = 0; p < 784; p++) x[i * 784 + p] = (labels[i] * 25 + (rng.nextUint32() & 15)) & 255;
  }
  return { x, labels };
}

const fashionSource: DatasetSource<FashionConfig> = {
  name: "fashion-tiny",
  schema: fashionSchema,
  info: (c) => ({
    featureShape: [1, 28, 28],
    classNames: FASHION_CLASSES,
    splitSizes: { train: c.trainCount - c.validationSize, validation: c.validationSize, test: c.testCount },
  }),
  async load(c, ctx) {
    ctx?.onProgress?.({ phase: "generate", message: "images", done: 0, total: c.trainCount + c.testCount });
    const rng = new Rng(1);
    return arrayDataset({
      name: "fashion-tiny",
      featureShape: [1, 28, 28],
      classNames: FASHION_CLASSES,
      train: fashionImages(c.trainCount, rng),
      test: fashionImages(c.testCount, rng),
      holdout: { seed: c.splitSeed, validationSize: c.validationSize },
      normalize: { mean: [0.286], std: [0.353] },
    });
  },
};

const folderSource: DatasetSource<{ dir?: string; size: number }> = {
  name: "folder",
  schema: z.strictObject({ dir: z.string().optional(), size: z.number().int().default(3) }),
  info: (c) => ({ featureShape: [1], classNames: ["x"], splitSizes: { train: c.size, test: 0 } }),
  load: () => Promise.reject(new Error("not loaded in tests")),
  cacheIdentity: ({ dir: _dir, ...rest }) => rest,
};

describe("the dataset registry", () => {
  it("a source registered from user code is parsed, described and loaded through the registry", async () => {
    registerDataset(fashionSource);
    registerDataset(fashionSource); // the same object again: a no-op
    expect(datasetNames()).toContain("fashion-tiny");
    const config = dataConfigSchema().parse({
      source: "fashion-tiny",
      trainCount: 50,
      testCount: 20,
      validationSize: 10,
    });
    expect(config).toEqual({
      source: "fashion-tiny",
      trainCount: 50,
      testCount: 20,
      splitSeed: 42,
      validationSize: 10,
    });
    const info = datasetInfo(config);
    expect(featureSize(info.featureShape)).toBe(784);
    expect(info.splitSizes).toEqual({ train: 40, validation: 10, test: 20 });
    const events: string[] = [];
    const data = await loadDataset(config, { onProgress: (e) => events.push(e.phase) });
    expect(events).toEqual(["generate"]);
    for (const [name, size] of Object.entries(info.splitSizes)) expect(data.splits[name].size).toBe(size);
    const stream = data.splits.train.batches({ batchSize: 16, shuffle: true, seed: 3, dropLast: true });
    const batches = [...stream.epoch(0)].map((b) => ({ size: b.size, width: b.x.length / b.size }));
    expect(batches).toEqual([
      { size: 16, width: 784 },
      { size: 16, width: 784 },
    ]);
  });

  it("keeps the source's own refinements and strictness, and names the fields", () => {
    registerDataset(fashionSource);
    const schema = dataConfigSchema();
    const tooMany = schema.safeParse({
      source: "fashion-tiny",
      trainCount: 5,
      testCount: 1,
      validationSize: 5,
    });
    expect(tooMany.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([
      ["validationSize", "expected fewer validation images than trainCount"],
    ]);
    const extra = schema.safeParse({
      source: "fashion-tiny",
      trainCount: 5,
      testCount: 1,
      validationSize: 1,
      dir: "x",
    });
    expect(extra.error?.issues[0].code).toBe("unrecognized_keys");
  });

  it("an unknown or missing source lists the registered ones; defaultSource fills a missing one", () => {
    registerDataset(fashionSource);
    registerDataset(folderSource);
    const names = datasetNames()
      .map((n) => `"${n}"`)
      .join(", ");
    const unknown = dataConfigSchema().safeParse({ source: "mnist" });
    expect(unknown.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([
      ["source", `expected source to be one of ${names}`],
    ]);
    expect(dataConfigSchema().safeParse({ size: 2 }).success).toBe(false);
    expect(dataConfigSchema({ defaultSource: "folder" }).parse({ size: 2 })).toEqual({
      source: "folder",
      size: 2,
    });
    expect(() => datasetSource("mnist")).toThrow(
      `datasetSource: source: expected one of ${names}, got "mnist"`,
    );
    expect(() => dataConfigSchema({ defaultSource: "mnist" })).toThrow("expected one of");
  });

  it("a schema covers the sources registered when it was built", () => {
    registerDataset(folderSource);
    const before = dataConfigSchema();
    const late: DatasetSource<{ n: number }> = {
      ...folderSource,
      name: "late",
      schema: z.strictObject({ n: z.number() }),
    } as never;
    registerDataset(late);
    expect(before.safeParse({ source: "late", n: 1 }).success).toBe(false);
    expect(dataConfigSchema().parse({ source: "late", n: 1 })).toEqual({ source: "late", n: 1 });
  });

  it("the cache identity leaves out what the source says does not shape the data", () => {
    registerDataset(folderSource);
    registerDataset(fashionSource);
    expect(dataCacheIdentity({ source: "folder", dir: "/home/me/data", size: 3 })).toEqual({
      source: "folder",
      size: 3,
    });
    const fashion = { source: "fashion-tiny", trainCount: 5, testCount: 1, splitSeed: 42, validationSize: 1 };
    expect(dataCacheIdentity(fashion)).toEqual(fashion);
  });

  it("rejects a second source of the same name and schemas it cannot build a union member from", () => {
    registerDataset(folderSource);
    expect(() => registerDataset({ ...folderSource })).toThrow(
      'registerDataset: name: expected a new name, "folder" is already registered by another source',
    );
    const loose = { ...folderSource, name: "loose", schema: z.object({ size: z.number() }) } as never;
    expect(() => registerDataset(loose)).toThrow(
      "registerDataset: loose.schema: expected a z.strictObject of the source's config fields",
    );
    const own = { ...folderSource, name: "own", schema: z.strictObject({ source: z.string() }) } as never;
    expect(() => registerDataset(own)).toThrow('registerDataset: own.schema: expected no "source" field');
    expect(() => registerDataset({ ...folderSource, name: "a b" })).toThrow(
      "registerDataset: name: expected letters",
    );
    expect(datasetNames()).not.toContain("loose");
  });
});
