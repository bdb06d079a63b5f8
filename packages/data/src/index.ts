/**
 * @nabla/data — the dataset interface every data source implements (splits of batch streams, and what a config
 * determines before any data is read), a registry of sources selected by `data.source`, and in-memory datasets.
 */
export {
  type ArrayDatasetOptions,
  type ArraySplitInput,
  arrayDataset,
  type Holdout,
  type Normalization,
} from "./array.js";
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
export { deriveEpochSeed, mix32 } from "./seed.js";
export type { Batch, BatchOptions, BatchStream, Dataset, DatasetInfo, DatasetSplit } from "./types.js";
export { featureSize } from "./types.js";
