/**
 * @nabla/nn — neural-network modules with explicit forward and backward passes, train/eval modes and
 * state dicts, models as layer lists, safetensors checkpoints, and gradient checking.
 */

export { ReLU, Softmax } from "./activations.js";
export { erf, GELU, LeakyReLU, type LeakyReLUOptions, Sigmoid, Tanh } from "./activations-smooth.js";
export { AdaptiveAvgPool2d, AvgPool2d } from "./avg-pooling.js";
export { BatchNorm1d, type BatchNorm1dOptions } from "./batchnorm.js";
export { BatchNormBase, type BatchNormOptions } from "./batchnorm-core.js";
export { BatchNorm2d, type BatchNorm2dOptions } from "./batchnorm2d.js";
export { Conv2d, type Conv2dOptions, conv2dInitBound } from "./conv2d.js";
export { Dropout, type DropoutOptions } from "./dropout.js";
export { NnError } from "./errors.js";
export { Flatten } from "./flatten.js";
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
export {
  type BuildOptions,
  buildSequential,
  flatWidth,
  type LayerContext,
  type LayerDefinition,
  type LayerPlan,
  type LayerShape,
  LayerShapeError,
  type LayerSpec,
  type LayerSpecInput,
  layerSeed,
  layerSpecSchema,
  layersSchema,
  mlpLayers,
  type PlannedLayer,
  parseLayers,
  planLayers,
  registeredLayers,
  registerLayer,
} from "./layers.js";
export { initStd, Linear, type LinearInit, type LinearOptions } from "./linear.js";
export { CROSS_ENTROPY_EPSILON, CrossEntropy, SoftmaxCrossEntropy } from "./losses.js";
export { accuracy, countCorrect } from "./metrics.js";
export {
  type Buffer,
  type LoadStateDictOptions,
  type Loss,
  type Module,
  ModuleBase,
  type Parameter,
} from "./module.js";
export {
  checkLossGradients,
  checkModuleGradients,
  checkNetworkGradients,
  type ModuleCheckOptions,
} from "./module-checks.js";
export { MaxPool2d, type Pool2dOptions, type Size2 } from "./pooling.js";
export {
  type DecodedSafetensors,
  decodeSafetensors,
  encodeSafetensors,
  type Int64Tensor,
  loadSafetensors,
  type SafetensorsValue,
  saveSafetensors,
} from "./safetensors.js";
export { MLP, type MLPOptions, Sequential, type SequentialOptions } from "./sequential.js";
