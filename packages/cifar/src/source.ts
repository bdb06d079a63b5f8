import {
  type Dataset,
  type DatasetInfo,
  type DatasetSource,
  type DatasetSplit,
  holdoutFields,
  type LoadContext,
} from "@nabla/data";
import { z } from "zod";
import { BatchLoader } from "./batch.js";
import { CIFAR10_CLASS_NAMES, CIFAR10_TEST_IMAGES, CIFAR10_TRAIN_IMAGES, IMAGE_SIDE } from "./constants.js";
import { loadCifar10 } from "./load.js";
import { normalizationTable } from "./normalize.js";
import type { Cifar10Data, CifarSplit } from "./parse.js";
import { splitTrainValidation } from "./split.js";
import { syntheticCifar10 } from "./synthetic.js";

const FEATURE_SHAPE: readonly number[] = Object.freeze([3, IMAGE_SIDE, IMAGE_SIDE]);
const positiveInt = z.number().int().positive();

const cifar10Schema = z
  .strictObject({
    /** A folder of yours holding cifar-10-batches-bin (default: the cache). Verified, so not in the identity. */
    dir: z.string().min(1).optional(),
    ...holdoutFields,
  })
  .superRefine((c, ctx) => {
    if (c.validationSize >= CIFAR10_TRAIN_IMAGES) {
      ctx.addIssue({
        code: "custom",
        path: ["validationSize"],
        message: `expected fewer than ${CIFAR10_TRAIN_IMAGES} (CIFAR-10's training images), got ${c.validationSize}`,
      });
    }
  });

const syntheticSchema = z
  .strictObject({
    trainCount: positiveInt,
    testCount: positiveInt,
    /** Seed of the generated images (independent of the split seed and the run seed). */
    seed: z.number().int().min(0).max(0xffff_ffff).default(0),
    ...holdoutFields,
  })
  .superRefine((c, ctx) => {
    if (c.validationSize >= c.trainCount) {
      ctx.addIssue({
        code: "custom",
        path: ["validationSize"],
        message: `expected fewer than trainCount (${c.trainCount}) validation images, got ${c.validationSize}`,
      });
    }
  });

export type Cifar10SourceConfig = z.output<typeof cifar10Schema>;
export type SyntheticSourceConfig = z.output<typeof syntheticSchema>;

function holdoutInfo(trainImages: number, validationSize: number, testImages: number): DatasetInfo {
  return {
    featureShape: FEATURE_SHAPE,
    classNames: CIFAR10_CLASS_NAMES,
    splitSizes: { train: trainImages - validationSize, validation: validationSize, test: testImages },
  };
}

function split(images: CifarSplit): DatasetSplit {
  return Object.freeze({
    size: images.count,
    batches: (options) => new BatchLoader(images, options),
  } as DatasetSplit);
}

/**
 * The Dataset of loaded CIFAR-shaped data: train split into train + validation by splitTrainValidation, and each
 * split's batches() a BatchLoader (so the numbers are those of the loader: same shuffles, same normalisation).
 */
const RAW_ZERO: readonly number[] = (() => {
  const table = normalizationTable();
  return Object.freeze([table[0], table[256], table[512]]);
})();

function holdoutDataset(name: string, data: Cifar10Data, splitSeed: number, validationSize: number): Dataset {
  const { train, validation } = splitTrainValidation(data.train, { seed: splitSeed, validationSize });
  return Object.freeze({
    name,
    featureShape: FEATURE_SHAPE,
    // What a zero byte becomes once batched: random crops pad with it, as PyTorch pads before Normalize.
    rawZero: RAW_ZERO,
    classNames: Object.freeze([...data.classNames]),
    splits: Object.freeze({ train: split(train), validation: split(validation), test: split(data.test) }),
  });
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason ?? new Error("aborted");
}

/**
 * The official CIFAR-10 (`{"source": "cifar10"}`): loadCifar10 (your folder `dir`, else the cache, else a
 * verified download), then the seeded hold-out. The load itself cannot be interrupted; an aborted signal is
 * honoured before it starts and when it ends.
 */
export const cifar10Source: DatasetSource<Cifar10SourceConfig> = Object.freeze({
  name: "cifar10",
  schema: cifar10Schema,
  info: (c: Cifar10SourceConfig) => holdoutInfo(CIFAR10_TRAIN_IMAGES, c.validationSize, CIFAR10_TEST_IMAGES),
  async load(c: Cifar10SourceConfig, ctx: LoadContext = {}) {
    throwIfAborted(ctx.signal);
    const data = await loadCifar10({ userDir: c.dir, onProgress: ctx.onProgress });
    throwIfAborted(ctx.signal);
    return holdoutDataset("cifar10", data, c.splitSeed, c.validationSize);
  },
  cacheIdentity: ({ dir: _dir, ...shaping }: Cifar10SourceConfig) => shaping,
});

/** Learnable generated images with CIFAR-10's shape and classes (`{"source": "synthetic"}`), see syntheticCifar10. */
export const syntheticSource: DatasetSource<SyntheticSourceConfig> = Object.freeze({
  name: "synthetic",
  schema: syntheticSchema,
  info: (c: SyntheticSourceConfig) => holdoutInfo(c.trainCount, c.validationSize, c.testCount),
  async load(c: SyntheticSourceConfig, ctx: LoadContext = {}) {
    throwIfAborted(ctx.signal);
    const data = syntheticCifar10({ trainCount: c.trainCount, testCount: c.testCount, seed: c.seed });
    return holdoutDataset("synthetic", data, c.splitSeed, c.validationSize);
  },
});
