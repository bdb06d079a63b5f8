/**
 * TF.js setup for Node and browsers: tfjs-core + the wasm (SIMD) backend, falling back to the cpu backend.
 * Where the .wasm files are found differs by platform (`#wasm-dir`: the installed package's dist/ in Node,
 * beside the page in a browser); setWasmBinaryDir overrides it.
 *
 * `@tensorflow/tfjs` is imported for its side effect only: tfjs-core's Node bundle ships no gradient
 * functions (autograd fails with "gradient function not found for Mean"); the union package registers
 * all of them in TF.js's global gradient registry. `@tensorflow/tfjs-node` cannot be installed here.
 */

// Namespace imports read below, not bare `import "…"`: tsc copies a bare import into backend.d.ts, which
// would pull all of TF.js's declarations into every consumer's program, and those do not compile with
// skipLibCheck: false (tfjs-layers' own types are inconsistent under strict).
import * as tfjsUnion from "@tensorflow/tfjs";
import * as tfjsCpu from "@tensorflow/tfjs-backend-cpu";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import * as tf from "@tensorflow/tfjs-core";
import { defaultWasmBinaryDir } from "#wasm-dir";

// Reading the namespaces keeps both imports in the emitted JS (an unused import is elided).
void [tfjsUnion.version, tfjsCpu.version_cpu];

export type TfjsBackendName = "wasm" | "cpu";

export interface TfjsBackendInfo {
  /** The backend actually in use. */
  backendName: TfjsBackendName;
  /** Whether the wasm backend runs its SIMD build (false on cpu). */
  simd: boolean;
  /** Why the requested backend could not be used (null when it was). */
  fallbackReason: string | null;
}

let wasmPathsSet = false;
let wasmFailure: string | null = null;

let configuredDir: string | null = null;

/**
 * Where tfjs-backend-wasm's .wasm files (tfjs-backend-wasm.wasm, -simd.wasm, -threaded-simd.wasm) are fetched
 * from: a directory path or URL ending in "/". Takes effect at the first useBackend("wasm"). Needed in a
 * browser whose page does not serve them beside itself.
 */
export function setWasmBinaryDir(dir: string): void {
  if (typeof dir !== "string" || !dir.endsWith("/")) {
    throw new Error(
      `setWasmBinaryDir: expected a directory path or URL ending in "/", got ${JSON.stringify(dir)}`,
    );
  }
  if (wasmPathsSet && dir !== configuredDir) {
    throw new Error(
      "setWasmBinaryDir: the wasm backend has already loaded its files; call it before useBackend",
    );
  }
  configuredDir = dir;
}

/** The directory the wasm backend loads its .wasm files from (setWasmBinaryDir's, else the platform's). */
export function wasmBinaryDir(): string {
  return configuredDir ?? defaultWasmBinaryDir();
}

async function tryWasm(): Promise<string | null> {
  if (wasmFailure !== null) return wasmFailure;
  try {
    if (!wasmPathsSet) {
      setWasmPaths(wasmBinaryDir());
      wasmPathsSet = true;
    }
    const ok = await tf.setBackend("wasm");
    if (!ok) wasmFailure = "tf.setBackend('wasm') returned false (wasm backend failed to initialise)";
  } catch (error) {
    wasmFailure = `wasm backend failed to initialise: ${error instanceof Error ? error.message : String(error)}`;
  }
  return wasmFailure;
}

/**
 * Makes `requested` the active TF.js backend; "wasm" falls back to "cpu" and records why.
 * TF.js has one global active backend, so a model is tied to the backend active when it was created.
 */
export async function useBackend(requested: TfjsBackendName = "wasm"): Promise<TfjsBackendInfo> {
  // The cpu backend's first write prints an "install tfjs-node" banner into the user's output; PROD only
  // silences TF.js's warnings and debug checks, it changes no arithmetic.
  tf.env().set("PROD", true);
  let fallbackReason: string | null = null;
  if (requested === "wasm") {
    fallbackReason = await tryWasm();
  }
  if (requested === "cpu" || fallbackReason !== null) {
    const ok = await tf.setBackend("cpu");
    if (!ok) throw new Error("@nabla/tfjs: neither the wasm nor the cpu TF.js backend could be initialised");
  }
  await tf.ready();
  const backendName = tf.getBackend() as TfjsBackendName;
  const simd = backendName === "wasm" && (await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) === true;
  return { backendName, simd, fallbackReason };
}
