/**
 * @nabla/ndarray — float32/float64 tensors on scijs ndarray, element-wise and row kernels, GEMM, 2-D
 * convolution, a seeded PRNG.
 */
export {
  type Conv2dPair,
  Conv2dPlan,
  type Conv2dPlanOptions,
  conv2dBackwardInput,
  conv2dBackwardWeight,
  conv2dForward,
  conv2dOutputSize,
  conv2dPlan,
} from "./conv.js";
export { type Conv2dReferenceOptions, conv2dReference, conv2dReferenceBackward } from "./conv-reference.js";
export {
  add,
  addRowVector,
  axpy,
  clamp,
  exp,
  fill,
  greater,
  log,
  mul,
  relu,
  reluBackward,
  scale,
  sub,
} from "./elementwise.js";
export { NdarrayError } from "./errors.js";
export {
  type GemmKernel,
  type GemmKernelInfo,
  gemm,
  gemmKernelInfo,
  gemmReady,
  gemmReference,
  matmul,
  residentZeros,
  setGemmKernel,
  setGemmThreads,
} from "./gemm/index.js";
export {
  type GemmProfileEntry,
  gemmProfile,
  setGemmProfiling,
} from "./gemm/profile.js";
export type { Parameter } from "./parameter.js";
export { Rng } from "./rng.js";
export {
  argmaxRows,
  dot,
  norm,
  rowLogSumExp,
  rowMax,
  rowSum,
  softmaxRows,
  sumAxis0,
  sumAxis1,
} from "./rowops.js";
export {
  arange,
  contiguous,
  copyInto,
  type DType,
  dtypeOf,
  type FloatArray,
  fromArray,
  fromTypedArray,
  full,
  gatherRows,
  isContiguous,
  isFloatArray,
  ones,
  reshape,
  sliceRows,
  type Tensor,
  type TensorLike,
  toFloat32,
  toFloat64,
  transpose,
  zeros,
} from "./tensor.js";
