import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { NativeGemm } from "../gemm/native.js";
import { gemmLoopSource } from "../gemm/worker-source.js";
import type { HelperData, Platform } from "./types.js";

// Evaluated as CommonJS or as ESM depending on Node's guess, hence the dynamic import.
const helperSource = `(async () => {
const { workerData } = await import("node:worker_threads");
const { module, memory, control } = workerData;
${gemmLoopSource}
})();`;

/** dist/native/ of this package: this module always runs from dist/platform/ (vitest included). */
const nativeDir = new URL("../native/", import.meta.url);

function loadNative(): NativeGemm | string {
  if (process.env.NABLA_GEMM_NATIVE === "0") return "native kernel disabled by NABLA_GEMM_NATIVE=0";
  const addon = fileURLToPath(new URL("nabla_gemm.node", nativeDir));
  if (!existsSync(addon)) {
    const errorFile = fileURLToPath(new URL("build-error.txt", nativeDir));
    const reason = existsSync(errorFile) ? readFileSync(errorFile, "utf8").trim() : "addon not built";
    return `native kernel unavailable: ${reason}`;
  }
  try {
    return createRequire(import.meta.url)(addon) as NativeGemm;
  } catch (e) {
    return `native kernel failed to load: ${(e as Error).message.split("\n")[0]}`;
  }
}

export const platform: Platform = {
  name: "node",
  env: (name) => process.env[name],
  parallelism: () => availableParallelism(),
  threadsProblem: () => null,
  helperBootsWhileBlocked: true,
  canBlock: () => true,
  startHelper(data: HelperData, onError) {
    const worker = new Worker(helperSource, { eval: true, workerData: data });
    worker.unref(); // an idle helper must never keep the process alive
    worker.on("error", (e) => onError(e.message));
    return { terminate: () => void worker.terminate() };
  },
  loadNative,
  notice: (line) => void process.stderr.write(`${line}\n`),
  nativeHint: () =>
    "for the native kernel install a C++17 compiler (g++ or clang++, with Node's headers) and rebuild it " +
    "with `node node_modules/@nabla/ndarray/scripts/build-native.mjs` (pnpm users: allow the package's build " +
    "script with allowBuilds)",
};
