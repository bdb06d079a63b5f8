/** @nabla/optim — SGD, Adam, AdamW and learning-rate schedulers with PyTorch 1.13's semantics. */
export { Adam, type AdamOptions, type AdamParamState, type AdamStateDict, AdamW } from "./adam.js";
export { OptimError } from "./errors.js";
export {
  LRScheduler,
  type LRSchedulerState,
  type Scheduler,
  type SchedulerStateBase,
} from "./lr-scheduler.js";
export { Optimizer, type OptimizerStateBase } from "./optimizer.js";
export type { FloatArray, JsonNumber, ParamLike } from "./params.js";
export {
  CosineAnnealingLR,
  type CosineAnnealingLROptions,
  ExponentialLR,
  type ExponentialLROptions,
  LinearLR,
  type LinearLROptions,
  MultiStepLR,
  type MultiStepLROptions,
  StepLR,
  type StepLROptions,
} from "./schedulers.js";
export { SequentialLR, type SequentialLROptions, type SequentialLRState } from "./sequential.js";
export { SGD, type SGDOptions, type SGDStateDict } from "./sgd.js";
