/**
 * Speed shim for the wasm backend's BatchMatMul kernel.
 *
 * Measured here (3072-128-10, batch 128): tfjs-backend-wasm 4.22 runs matMul through XNNPACK only when
 * neither operand is transposed; with transposeA or transposeB it takes a plain loop that is 20-40x
 * slower (87 ms vs 4 ms for 128x3072·3072x128). Autograd's matMul gradients always use the transposed
 * forms (dA = dY·Bᵀ, dB = Aᵀ·dY), so they dominated a training step. The shim computes a transposed
 * product as an explicit Transpose kernel followed by the XNNPACK product, which is the same
 * mathematical operation; gradients are still TF.js's own (registered per kernel name, not per
 * implementation). Results differ from the stock kernel only by float32 summation order.
 */
import * as tf from "@tensorflow/tfjs-core";

/** "explicit-transpose": the shim (default). "stock": TF.js's own kernel. */
export type WasmMatMulMode = "explicit-transpose" | "stock";

interface BatchMatMulArgs {
  inputs: { a: tf.TensorInfo; b: tf.TensorInfo };
  attrs: { transposeA: boolean; transposeB: boolean };
  backend: { disposeData(dataId: object): boolean };
}

let stockConfig: tf.KernelConfig | null = null;
let mode: WasmMatMulMode = "stock";

function registered(): tf.KernelConfig {
  const config = tf.getKernel("BatchMatMul", "wasm");
  if (config === undefined)
    throw new Error("@nabla/tfjs: the wasm backend has no BatchMatMul kernel registered");
  return config;
}

function explicitTransposeKernel(stock: tf.KernelConfig): tf.KernelFunc {
  const transposeKernel = tf.getKernel("Transpose", "wasm");
  if (transposeKernel === undefined) throw new Error("@nabla/tfjs: the wasm backend has no Transpose kernel");
  return (params) => {
    const args = params as unknown as BatchMatMulArgs;
    const { a, b } = args.inputs;
    const { transposeA, transposeB } = args.attrs;
    if (!transposeA && !transposeB) return stock.kernelFunc(params);
    const temporaries: tf.TensorInfo[] = [];
    const swapLastTwo = (t: tf.TensorInfo): tf.TensorInfo => {
      const perm = t.shape.map((_, i) => i);
      const r = perm.length;
      [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
      const out = transposeKernel.kernelFunc({
        inputs: { x: t },
        attrs: { perm },
        backend: params.backend,
      }) as tf.TensorInfo;
      temporaries.push(out);
      return out;
    };
    try {
      return stock.kernelFunc({
        ...params,
        inputs: { a: transposeA ? swapLastTwo(a) : a, b: transposeB ? swapLastTwo(b) : b },
        attrs: { ...params.attrs, transposeA: false, transposeB: false },
      });
    } finally {
      for (const t of temporaries) args.backend.disposeData(t.dataId);
    }
  };
}

/**
 * Chooses the wasm BatchMatMul implementation for the whole process (TF.js kernels are global).
 * Safe to call before or after the wasm backend is initialised.
 */
export function setWasmMatMulMode(next: WasmMatMulMode): void {
  if (next !== "explicit-transpose" && next !== "stock") {
    throw new Error(
      `setWasmMatMulMode: mode must be "explicit-transpose" or "stock", got ${JSON.stringify(next)}`,
    );
  }
  if (next === mode) return;
  if (stockConfig === null) stockConfig = registered();
  tf.unregisterKernel("BatchMatMul", "wasm");
  tf.registerKernel(
    next === "stock" ? stockConfig : { ...stockConfig, kernelFunc: explicitTransposeKernel(stockConfig) },
  );
  mode = next;
}

export function wasmMatMulMode(): WasmMatMulMode {
  return mode;
}
