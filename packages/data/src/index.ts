/**
 * @nabla/data — the dataset interface every data source implements (splits of batch streams, and what a config
 * determines before any data is read), a registry of sources selected by `data.source`, in-memory datasets, and
 * the training batches' augmentation (`data.augment`, a registry of transforms).
 */
export {
  type ArrayDatasetOptions,
  type ArraySplitInput,
  arrayDataset,
  type Holdout,
  type Normalization,
} from "./array.js";
export {
  type AugmentOptions,
  augmentBatches,
  augmentSchema,
  type BatchTransform,
  checkAugment,
  registeredTransforms,
  registerTransform,
  type TransformContext,
  type TransformDefinition,
  type TransformInput,
} from "./augment.js";
export { DataError } from "./errors.js";
export {
  type DataConfig,
  type DataConfigSchemaOptions,
  type DatasetSource,
  dataCacheIdentity,
  dataConfigSchema,
  datasetInfo,
  datasetNames,
  datasetSource,
  HOLDOUT_DEFAULTS,
  holdoutFields,
  type LoadContext,
  type LoadProgressEvent,
  loadDataset,
  registerDataset,
} from "./registry.js";
export { deriveAugmentSeed, deriveEpochSeed, mix32 } from "./seed.js";
export type { Batch, BatchOptions, BatchStream, Dataset, DatasetInfo, DatasetSplit } from "./types.js";
export { featureSize } from "./types.js";
