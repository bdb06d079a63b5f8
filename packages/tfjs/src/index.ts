/** @nabla/tfjs — the homework MLP in TensorFlow.js (autograd), an independent cross-check of @nabla/nn. */
export {
  setWasmBinaryDir,
  type TfjsBackendInfo,
  type TfjsBackendName,
  useBackend,
  wasmBinaryDir,
} from "./backend.js";
export { maxRelDiff, nablaMlpWeights } from "./crosscheck.js";
export { TfjsMlpError } from "./errors.js";
export {
  createTfjsMlp,
  type TfjsLayerWeights,
  type TfjsMlp,
  type TfjsMlpOptions,
  validateLayers,
} from "./mlp.js";
export { setWasmMatMulMode, type WasmMatMulMode, wasmMatMulMode } from "./wasm-matmul.js";
