/** @nabla/optim — SGD, Adam, AdamW and learning-rate schedulers with PyTorch 1.13's semantics. */
export {
  Adam,
  type AdamOptions,
  type AdamParamState,
  type AdamStateDict,
  AdamW,
  adamConfigSchema,
  adamwConfigSchema,
} from "./adam.js";
export {
  CosineAnnealingLR,
  type CosineAnnealingLROptions,
  cosineConfigSchema,
} from "./cosine-lr.js";
export { formatPath, OptimError, zodTypeName } from "./errors.js";
export {
  ExponentialLR,
  type ExponentialLROptions,
  exponentialConfigSchema,
} from "./exponential-lr.js";
export { LinearLR, type LinearLROptions, linearConfigSchema } from "./linear-lr.js";
export {
  LRScheduler,
  type LRSchedulerState,
  type Scheduler,
  type SchedulerInterval,
  type SchedulerStateBase,
} from "./lr-scheduler.js";
export { MultiStepLR, type MultiStepLROptions, multistepConfigSchema } from "./multistep-lr.js";
export {
  OneCycleLR,
  type OneCycleLROptions,
  type OneCycleLRState,
  onecycleConfigSchema,
} from "./one-cycle-lr.js";
export { Optimizer, type OptimizerStateBase } from "./optimizer.js";
export type { FloatArray, JsonNumber } from "./params.js";
export {
  createOptimizer,
  createScheduler,
  type KindSchema,
  type LRSchedulerConfig,
  type LRSchedulerConfigInput,
  type OptimizerConfig,
  type OptimizerConfigInput,
  type OptimizerEntry,
  optimizerConfigSchema,
  optimizerKinds,
  parseOptimizerConfig,
  parseSchedulerConfig,
  type RegisteredConfig,
  registerOptimizer,
  registerScheduler,
  type SchedulerConfig,
  type SchedulerConfigInput,
  type SchedulerContext,
  type SchedulerEntry,
  schedulerConfigSchema,
  schedulerInterval,
  schedulerKinds,
} from "./registry.js";
export {
  SequentialLR,
  type SequentialLROptions,
  type SequentialLRState,
  sequentialConfigSchema,
} from "./sequential.js";
export { SGD, type SGDOptions, type SGDStateDict, sgdConfigSchema } from "./sgd.js";
export { StepLR, type StepLROptions, stepConfigSchema } from "./step-lr.js";
