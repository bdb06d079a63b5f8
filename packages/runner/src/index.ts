/** @nabla/runner — experiment specs, training loop, results files, cache, parallel sweeps and the nabla CLI. */

export { CHECKPOINT_FORMAT, type CheckpointMetadata, checkpointPath, readCheckpoint } from "./checkpoint.js";
export { runCli } from "./commands.js";
export { loadExperimentData } from "./data.js";
export { ensureBuiltinDatasets, experimentDatasetInfo } from "./datasets.js";
export { CancelledError, ResultsError, SpecError, UserError } from "./errors.js";
export { type EvalOutcome, evaluateCheckpoint } from "./evaluate.js";
export { cachedResults, type RunOptions, type RunOutcome, runExperiment } from "./experiment.js";
export { cacheKey, canonicalJson } from "./fingerprint.js";
export {
  type ExperimentsFolderOptions,
  type ExperimentsFolderOutcome,
  readExperimentsFolder,
  runExperimentsFolder,
} from "./folder.js";
export {
  buildModule,
  type ModelState,
  modelLayers,
  nablaModel,
  type Stepper,
  type TfjsLayerWeights,
  type TrainableModel,
} from "./models.js";
export { createProgressRenderer, describeEvent, type ProgressRenderer, type TextOutput } from "./progress.js";
export {
  type Environment,
  environmentSchema,
  formatJson,
  loadResults,
  type Metrics,
  metricsSchema,
  RESULTS_SCHEMA_VERSION,
  type Results,
  resultsDigest,
  resultsPath,
  resultsSchema,
  serializeResults,
  type Timings,
} from "./results.js";
export {
  DEFAULTS,
  type ExperimentSpec,
  type ExperimentSpecInput,
  expandSweep,
  experimentSpecSchema,
  formatSpecError,
  type LayerList,
  loadSpecFile,
  MAX_SPEC_BYTES,
  MAX_SWEEP_MEMBERS,
  type ModelSpec,
  type OptimizerSpec,
  parseSpec,
  readSpecFile,
  type SweepSpecInput,
  sweepSpecSchema,
} from "./spec.js";
export {
  runSweep,
  type SweepFailure,
  type SweepOptions,
  type SweepOutcome,
  sweepExperiments,
} from "./sweep.js";
export {
  loadTaskResults,
  parseTaskSpec,
  registerTask,
  runTask,
  TASK_RESULTS_SCHEMA_VERSION,
  type TaskContext,
  type TaskDefinition,
  type TaskOutcome,
  type TaskResults,
  type TaskSpec,
  taskCacheKey,
  taskKinds,
  taskResultsDigest,
  taskResultsSchema,
} from "./tasks.js";
export { MAX_CURVE_POINTS, type ProgressEvent, type ProgressListener } from "./train.js";
