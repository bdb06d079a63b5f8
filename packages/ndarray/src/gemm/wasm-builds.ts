import { gemmRelaxedWasmBase64, gemmWasmBase64 } from "../generated/gemm-wasm.js";

interface WasmValidate {
  validate(bytes: Uint8Array): boolean;
}

let relaxedSupport: boolean | undefined;

/**
 * Whether this engine compiles the relaxed-SIMD build (V8 ships relaxed SIMD from 11.4, i.e. Node 22;
 * Node 20 has it only behind --experimental-wasm-relaxed-simd). Checked once by validating the module itself.
 */
export function wasmRelaxedSimdSupported(): boolean {
  if (relaxedSupport === undefined) {
    relaxedSupport = (globalThis as unknown as { WebAssembly: WasmValidate }).WebAssembly.validate(
      Buffer.from(gemmRelaxedWasmBase64, "base64"),
    );
  }
  return relaxedSupport;
}

export interface WasmGemmOptions {
  /**
   * Use the relaxed-SIMD build (fused multiply-add, so other bits than the plain build). Default: when the
   * engine supports it, unless NABLA_WASM_RELAXED=0; true where it is unsupported throws.
   */
  relaxed?: boolean;
}

/** The build of assembly/gemm.ts to instantiate, and its name for gemmKernelInfo().isa. */
export function chooseWasmBuild(options: WasmGemmOptions): { isa: string; bytes: Uint8Array } {
  const relaxed = options.relaxed ?? (process.env.NABLA_WASM_RELAXED !== "0" && wasmRelaxedSimdSupported());
  if (relaxed && !wasmRelaxedSimdSupported()) {
    throw new Error("@nabla/ndarray gemm: this engine has no WebAssembly relaxed SIMD");
  }
  return {
    isa: relaxed ? "wasm-relaxed-simd" : "wasm-simd128",
    bytes: Buffer.from(relaxed ? gemmRelaxedWasmBase64 : gemmWasmBase64, "base64"),
  };
}
