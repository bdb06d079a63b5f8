import { platform } from "#platform";
import {
  gemmRelaxedSharedWasmBase64,
  gemmRelaxedWasmBase64,
  gemmSharedWasmBase64,
  gemmWasmBase64,
} from "../generated/gemm-wasm.js";

interface WasmValidate {
  validate(bytes: Uint8Array): boolean;
}

/** The module bytes from base64 without Node's Buffer (atob is in every browser and in Node >= 16). */
export function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

let relaxedSupport: boolean | undefined;

/**
 * Whether this engine compiles the relaxed-SIMD build (V8 ships relaxed SIMD from 11.4, i.e. Node 22 and
 * Chromium 114; Node 20 has it only behind --experimental-wasm-relaxed-simd). Checked once by validating the
 * module itself.
 */
export function wasmRelaxedSimdSupported(): boolean {
  if (relaxedSupport === undefined) {
    relaxedSupport = (globalThis as unknown as { WebAssembly: WasmValidate }).WebAssembly.validate(
      decodeBase64(gemmRelaxedWasmBase64),
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
  /**
   * Shared memory, which the helper thread needs. Default: where threads can run (always in Node; in a
   * browser only when the page is cross-origin isolated, since shared memory is unavailable otherwise).
   */
  shared?: boolean;
}

/** The build of assembly/gemm.ts to instantiate, and its name for gemmKernelInfo().isa. */
export function chooseWasmBuild(options: WasmGemmOptions): {
  isa: string;
  shared: boolean;
  bytes: Uint8Array;
} {
  const relaxed =
    options.relaxed ?? (platform.env("NABLA_WASM_RELAXED") !== "0" && wasmRelaxedSimdSupported());
  if (relaxed && !wasmRelaxedSimdSupported()) {
    throw new Error("@nabla/ndarray gemm: this engine has no WebAssembly relaxed SIMD");
  }
  const shared = options.shared ?? platform.threadsProblem() === null;
  const base64 = relaxed
    ? shared
      ? gemmRelaxedSharedWasmBase64
      : gemmRelaxedWasmBase64
    : shared
      ? gemmSharedWasmBase64
      : gemmWasmBase64;
  return { isa: relaxed ? "wasm-relaxed-simd" : "wasm-simd128", shared, bytes: decodeBase64(base64) };
}
