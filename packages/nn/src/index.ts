/**
 * @nabla/nn — neural-network modules with explicit forward and backward passes,
 * gradient checking, and the matrix-calculus identity checks of homework 1.
 */

export { ReLU, Softmax } from "./activations.js";
export { NnError } from "./errors.js";
export {
  type Float64Vector,
  GRADCHECK_FLOOR,
  GRADCHECK_STEP,
  type GradcheckOptions,
  type GradientCheck,
  gradcheck,
  numericalGradient,
  relativeError,
} from "./gradcheck.js";
export { initStd, Linear, type LinearInit, type LinearOptions } from "./linear.js";
export { CROSS_ENTROPY_EPSILON, CrossEntropy, SoftmaxCrossEntropy } from "./losses.js";
export { accuracy, countCorrect } from "./metrics.js";
export type { Loss, Module, Parameter } from "./module.js";
export {
  checkLossGradients,
  checkModuleGradients,
  checkNetworkGradients,
  type ModuleCheckOptions,
} from "./module-checks.js";
export { MLP, type MLPOptions, Sequential } from "./sequential.js";
