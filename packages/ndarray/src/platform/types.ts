/**
 * What @nabla/ndarray needs from its host, so the rest of the package has no Node built-ins: the package's
 * `imports` map resolves `#platform` to platform/node.ts under the `node` condition and to platform/browser.ts
 * under `browser` and `default` (bundlers, Deno, workers of other runtimes).
 */
import type { NativeGemm } from "../gemm/native.js";

/** What the GEMM helper thread is started with: the compiled module, the shared memory, its control block. */
export interface HelperData {
  module: object;
  memory: object;
  control: number;
}

export interface HelperThread {
  terminate(): void;
}

export interface Platform {
  readonly name: "node" | "browser";
  /** An environment variable (undefined where the host has none). */
  env(name: string): string | undefined;
  /** Logical cores this process may use. */
  parallelism(): number;
  /** Why a helper thread over shared memory cannot run here, or null when it can. */
  threadsProblem(): string | null;
  /** Whether this thread may block in Atomics.wait while the helper computes (not a browser's main thread). */
  canBlock(): boolean;
  /**
   * Whether a helper boots while the thread that started it blocks. Only Node's worker_threads do: a browser
   * starts a worker once its creator returns to the event loop, a dedicated worker starting a nested one as
   * much as the main thread, so there the helper boots asynchronously (gemmReady waits for it).
   */
  readonly helperBootsWhileBlocked: boolean;
  /** Starts the helper thread running the GEMM loop of gemm/worker-source.ts; `onError` gets its failure. */
  startHelper(data: HelperData, onError: (message: string) => void): HelperThread;
  /** The native addon, or why it is unavailable. */
  loadNative(): NativeGemm | string;
  /** One line for the user (stderr in Node, the console in a browser). */
  notice(line: string): void;
  /** How to get the native kernel, for that line. */
  nativeHint(): string;
}
