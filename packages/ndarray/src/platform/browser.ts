import type { NativeGemm } from "../gemm/native.js";
import { gemmLoopSource } from "../gemm/worker-source.js";
import type { HelperData, Platform } from "./types.js";

/** The few Web APIs used here (the package compiles against the ES2022 library, without the DOM's types). */
interface WebGlobals {
  crossOriginIsolated?: boolean;
  navigator?: { hardwareConcurrency?: number };
  WorkerGlobalScope?: unknown;
  Worker?: new (
    url: string,
  ) => {
    postMessage(data: unknown): void;
    terminate(): void;
    addEventListener(type: "error", listener: (e: { message?: string }) => void): void;
  };
  Blob?: new (parts: string[], options: { type: string }) => object;
  URL: { createObjectURL?(blob: object): string; revokeObjectURL?(url: string): void };
  console: { info(line: string): void };
  /** The NABLA_* settings of a page or worker (a browser has no process.env); see `env` below. */
  NABLA_ENV?: Record<string, unknown>;
}
const web = globalThis as unknown as WebGlobals;

const helperSource = `self.onmessage = (event) => {
const { module, memory, control } = event.data;
self.onmessage = null;
${gemmLoopSource}
};`;

export const platform: Platform = {
  name: "browser",
  // A browser has no environment: a page or worker that wants NABLA_WASM_RELAXED=0 (the plain SIMD build, the
  // bits Node 20 computes) or NABLA_KERNEL_NOTICE=0 sets globalThis.NABLA_ENV = { ... } before its first GEMM.
  env(name) {
    const value = web.NABLA_ENV?.[name];
    return typeof value === "string" ? value : undefined;
  },
  parallelism: () => Math.max(1, web.navigator?.hardwareConcurrency ?? 1),
  threadsProblem() {
    if (!web.Worker || !web.Blob || !web.URL.createObjectURL) return "this host has no Web Workers";
    if (web.crossOriginIsolated !== true) {
      return "the page is not cross-origin isolated (serve it with COOP: same-origin and COEP: require-corp for shared memory)";
    }
    return null;
  },
  helperBootsWhileBlocked: false,
  canBlock: () => web.WorkerGlobalScope !== undefined,
  startHelper(data: HelperData, onError) {
    const WorkerCtor = web.Worker!;
    const url = web.URL.createObjectURL!(new web.Blob!([helperSource], { type: "text/javascript" }));
    const worker = new WorkerCtor(url);
    worker.addEventListener("error", (e) => onError(e.message ?? "worker error"));
    worker.postMessage(data);
    return {
      terminate() {
        worker.terminate();
        web.URL.revokeObjectURL?.(url);
      },
    };
  },
  loadNative: (): NativeGemm | string => "the native kernel is Node-only (this is the browser build)",
  notice: (line) => web.console.info(line),
  nativeHint: () => "the native kernel exists only in Node",
};
