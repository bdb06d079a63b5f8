/**
 * @nabla/runner/training — the runner's training step and loop without its Node parts (files, CLI, cache,
 * queue), for a browser page or a Web Worker: the same `nablaModel` and `trainLoop` the CLI runs.
 */
export {
  type ModelState,
  nablaModel,
  type Stepper,
  type TrainableModel,
} from "./models.js";
export type { Metrics } from "./results.js";
export {
  evaluate,
  MAX_CURVE_POINTS,
  type ProgressEvent,
  type ProgressListener,
  type TrainOptions,
  type TrainOutcome,
  trainLoop,
} from "./train.js";
