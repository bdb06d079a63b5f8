import {
  augmentBatches,
  type BatchStream,
  type Dataset,
  type DatasetSplit,
  type LoadProgressEvent,
  loadDataset,
} from "@nabla/data";
import { ensureBuiltinDatasets } from "./datasets.js";
import type { ExperimentSpec } from "./spec.js";

/** Loaded datasets, kept per process: a sweep worker running several experiments loads CIFAR-10 once. */
const loaded = new Map<string, Promise<Dataset>>();

/** The spec's dataset (its train, validation and test splits), through @nabla/data's registry. */
export function loadExperimentData(
  spec: ExperimentSpec,
  onProgress?: (event: LoadProgressEvent) => void,
  signal?: AbortSignal,
): Promise<Dataset> {
  ensureBuiltinDatasets();
  // The whole config, folder included (the split is part of what a source loads), but not the augmentation,
  // which is applied to batches: a sweep over transforms shares one load.
  const { augment: _augment, ...loadConfig } = spec.data;
  const key = JSON.stringify(loadConfig);
  const known = loaded.get(key);
  if (known !== undefined) return known;
  const pending = loadDataset(spec.data, { onProgress, signal });
  // A failed load is not remembered, so a later experiment can retry.
  pending.catch(() => loaded.delete(key));
  loaded.set(key, pending);
  return pending;
}

/**
 * Train batches are shuffled per epoch from the run seed, the last partial batch dropped (the assignment's),
 * then augmented by the spec's `data.augment` transforms (drawn from the run seed; none: the stream as is).
 */
export function trainLoader(spec: ExperimentSpec, data: Dataset): BatchStream {
  const stream = data.splits.train.batches({
    batchSize: spec.batchSize,
    shuffle: true,
    seed: spec.seed,
    dropLast: true,
  });
  return augmentBatches(stream, spec.data.augment, {
    featureShape: data.featureShape,
    seed: spec.seed,
    rawZero: data.rawZero,
  });
}

/** Validation and test: in order, the last partial batch kept. */
export function evalLoader(spec: ExperimentSpec, split: DatasetSplit): BatchStream {
  return split.batches({ batchSize: spec.batchSize, shuffle: false, dropLast: false });
}
