/**
 * @nabla/cifar/portable — the parts of @nabla/cifar that need no Node (no files, no downloads): parsing the
 * binary batches, normalisation, the seeded split, batching and synthetic data, for a browser page that reads
 * CIFAR-10 files the user picks.
 */
export { type Batch, BatchLoader, type BatchLoaderOptions } from "./batch.js";
export {
  CIFAR10_CLASS_NAMES,
  CIFAR10_MEAN,
  CIFAR10_STD,
  IMAGE_BYTES,
  RECORD_BYTES,
} from "./constants.js";
export { CifarDataError } from "./errors.js";
export {
  type NormalizationConstants,
  normalizationConstants,
  normalizationTable,
  normalizeImages,
  normalizeValue,
} from "./normalize.js";
export { type Cifar10Data, type CifarSplit, parseCifarBatch } from "./parse.js";
export { type SplitOptions, splitTrainValidation } from "./split.js";
export { type SyntheticOptions, syntheticCifar10 } from "./synthetic.js";
