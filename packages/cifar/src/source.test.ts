import {
  arrayDataset,
  type BatchStream,
  dataCacheIdentity,
  dataConfigSchema,
  datasetInfo,
  featureSize,
  loadDataset,
  registerDataset,
} from "@nabla/data";
import { describe, expect, it } from "vitest";
import { BatchLoader } from "./batch.js";
import { CIFAR10_CLASS_NAMES, CIFAR10_MEAN, CIFAR10_STD } from "./constants.js";
import { cifar10Source, syntheticSource } from "./source.js";
import { splitTrainValidation } from "./split.js";
import { syntheticCifar10 } from "./synthetic.js";

registerDataset(cifar10Source);
registerDataset(syntheticSource);
const schema = dataConfigSchema({ defaultSource: "cifar10" });
const issues = (input: unknown) =>
  schema.safeParse(input).error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`) ?? [];

/** Every batch of an epoch, copied (the streams reuse their buffers). */
function epochBatches(stream: BatchStream, epoch: number) {
  return Array.from(stream.epoch(epoch), (b) => ({ x: Array.from(b.x), y: Array.from(b.y), size: b.size }));
}

describe("the cifar10 and synthetic sources", () => {
  it("accept the runner's data configs, defaults filled in, source first", () => {
    expect(schema.parse({})).toEqual({ source: "cifar10", splitSeed: 42, validationSize: 5000 });
    expect(Object.keys(schema.parse({ validationSize: 10, dir: "/d" }))).toEqual([
      "source",
      "dir",
      "splitSeed",
      "validationSize",
    ]);
    expect(schema.parse({ source: "synthetic", trainCount: 100, testCount: 20, validationSize: 10 })).toEqual(
      {
        source: "synthetic",
        trainCount: 100,
        testCount: 20,
        seed: 0,
        splitSeed: 42,
        validationSize: 10,
      },
    );
  });

  it("reject what the runner rejects, with its messages", () => {
    expect(issues({ validationSize: 50_000 })).toEqual([
      "validationSize: expected fewer than 50000 (CIFAR-10's training images), got 50000",
    ]);
    expect(issues({ source: "synthetic", trainCount: 10, testCount: 5, validationSize: 10 })).toEqual([
      "validationSize: expected fewer than trainCount (10) validation images, got 10",
    ]);
    expect(issues({ source: "synthetic", testCount: 5 })[0]).toMatch(/^trainCount: /);
    expect(issues({ dir: "" })[0]).toMatch(/^dir: /);
    expect(issues({ validationSize: 0 })[0]).toMatch(/^validationSize: /);
    expect(issues({ splitSeed: 2 ** 32 })[0]).toMatch(/^splitSeed: /);
    expect(issues({ source: "cifar10", trainCount: 5 })[0]).toMatch(/Unrecognized key/);
    expect(issues({ source: "mnist" })[0]).toMatch(
      /^source: expected source to be one of "cifar10", "synthetic"/,
    );
  });

  it("info() holds the shapes, classes and split sizes before any data is read", () => {
    const cifar = datasetInfo(schema.parse({ validationSize: 1000 }));
    expect(featureSize(cifar.featureShape)).toBe(3072);
    expect(cifar.featureShape).toEqual([3, 32, 32]);
    expect(cifar.classNames).toBe(CIFAR10_CLASS_NAMES);
    expect(cifar.splitSizes).toEqual({ train: 49_000, validation: 1000, test: 10_000 });
    const synthetic = datasetInfo(
      schema.parse({ source: "synthetic", trainCount: 60, testCount: 7, validationSize: 9 }),
    );
    expect(synthetic.splitSizes).toEqual({ train: 51, validation: 9, test: 7 });
    expect(synthetic.classNames.length).toBe(10);
  });

  it("the cache identity of cifar10 leaves out the folder; synthetic keeps every field", () => {
    expect(dataCacheIdentity(schema.parse({ dir: "/home/me/cifar" }))).toEqual({
      source: "cifar10",
      splitSeed: 42,
      validationSize: 5000,
    });
    const synthetic = schema.parse({ source: "synthetic", trainCount: 60, testCount: 7, validationSize: 9 });
    expect(dataCacheIdentity(synthetic)).toEqual(synthetic);
  });

  it("synthetic through the registry gives the bits of syntheticCifar10 + splitTrainValidation + BatchLoader", async () => {
    const config = schema.parse({
      source: "synthetic",
      trainCount: 90,
      testCount: 21,
      seed: 5,
      validationSize: 17,
    });
    const data = await loadDataset(config);
    expect(data.splits.train.batches({ batchSize: 8, shuffle: true, dropLast: true })).toBeInstanceOf(
      BatchLoader,
    );
    const raw = syntheticCifar10({ trainCount: 90, testCount: 21, seed: 5 });
    const split = splitTrainValidation(raw.train, { seed: 42, validationSize: 17 });
    const direct = { train: split.train, validation: split.validation, test: raw.test };
    for (const name of ["train", "validation", "test"] as const) {
      expect(data.splits[name].size).toBe(datasetInfo(config).splitSizes[name]);
      const options = { batchSize: 8, shuffle: name === "train", seed: 3, dropLast: name === "train" };
      const ours = data.splits[name].batches(options);
      const theirs = new BatchLoader(direct[name], options);
      for (const epoch of [0, 4]) expect(epochBatches(ours, epoch)).toEqual(epochBatches(theirs, epoch));
    }
  });

  it("@nabla/data's arrayDataset on CIFAR bytes and constants gives BatchLoader's bits", () => {
    const raw = syntheticCifar10({ trainCount: 40, testCount: 3, seed: 2 });
    const generic = arrayDataset({
      name: "generic",
      featureShape: [3, 32, 32],
      classNames: CIFAR10_CLASS_NAMES,
      train: { x: raw.train.images, labels: raw.train.labels },
      test: { x: raw.test.images, labels: raw.test.labels },
      holdout: { seed: 42, validationSize: 11 },
      normalize: { mean: CIFAR10_MEAN, std: CIFAR10_STD },
    });
    const split = splitTrainValidation(raw.train, { seed: 42, validationSize: 11 });
    const options = { batchSize: 6, shuffle: true, seed: 9, dropLast: false };
    for (const name of ["train", "validation"] as const) {
      const ours = generic.splits[name].batches(options);
      expect(epochBatches(ours, 2)).toEqual(epochBatches(new BatchLoader(split[name], options), 2));
    }
  });

  it("an aborted signal stops a load before it starts", async () => {
    const config = schema.parse({ source: "synthetic", trainCount: 20, testCount: 2, validationSize: 5 });
    const controller = new AbortController();
    controller.abort(new Error("stopped by the test"));
    await expect(loadDataset(config, { signal: controller.signal })).rejects.toThrow("stopped by the test");
  });
});
