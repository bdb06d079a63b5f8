import {
  BatchLoader,
  type ProgressEvent as CifarProgressEvent,
  type CifarSplit,
  loadCifar10,
  splitTrainValidation,
  syntheticCifar10,
} from "@nabla/cifar";
import type { ExperimentSpec } from "./spec.js";

export interface ExperimentData {
  train: CifarSplit;
  validation: CifarSplit;
  test: CifarSplit;
}

/** Loaded datasets, kept per process: a sweep worker running several experiments loads CIFAR-10 once. */
const loaded = new Map<string, Promise<{ train: CifarSplit; test: CifarSplit }>>();

function loadSource(
  data: ExperimentSpec["data"],
  onProgress?: (event: CifarProgressEvent) => void,
): Promise<{ train: CifarSplit; test: CifarSplit }> {
  const key = JSON.stringify(data.source === "cifar10" ? { source: data.source, dir: data.dir } : data);
  let pending = loaded.get(key);
  if (pending === undefined) {
    pending =
      data.source === "cifar10"
        ? loadCifar10({ userDir: data.dir, onProgress })
        : Promise.resolve(
            syntheticCifar10({ trainCount: data.trainCount, testCount: data.testCount, seed: data.seed }),
          );
    // A failed load is not remembered, so a later experiment can retry.
    pending.catch(() => loaded.delete(key));
    loaded.set(key, pending);
  }
  return pending;
}

/** The spec's data: the official train set split into train + validation with the split seed, and test. */
export async function loadExperimentData(
  spec: ExperimentSpec,
  onProgress?: (event: CifarProgressEvent) => void,
): Promise<ExperimentData> {
  const { train, test } = await loadSource(spec.data, onProgress);
  const split = splitTrainValidation(train, {
    seed: spec.data.splitSeed,
    validationSize: spec.data.validationSize,
  });
  return { train: split.train, validation: split.validation, test };
}

/** Train batches are shuffled per epoch from the run seed, the last partial batch dropped (the assignment's). */
export function trainLoader(spec: ExperimentSpec, split: CifarSplit): BatchLoader {
  return new BatchLoader(split, {
    batchSize: spec.batchSize,
    shuffle: true,
    seed: spec.seed,
    dropLast: true,
  });
}

/** Validation and test: in order, the last partial batch kept. */
export function evalLoader(spec: ExperimentSpec, split: CifarSplit): BatchLoader {
  return new BatchLoader(split, { batchSize: spec.batchSize, shuffle: false, dropLast: false });
}
