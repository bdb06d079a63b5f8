/**
 * One losses check in whatever thread imports it (the page's main thread or a Web Worker): sets the GEMM
 * thread count, waits for the helper thread, trains, and returns the report with the kernel that ran.
 */
import { gemmKernelInfo, gemmReady, setGemmThreads } from "@nabla/ndarray";
import {
  type KernelReport,
  kernelReport,
  type LossesReport,
  runLossesCheck,
} from "../training/losses-check.js";
import { setNablaEnv } from "../training/nabla-env.js";

export interface CheckRequest {
  threads: 1 | 2;
  /** "1" runs the relaxed-SIMD build where the engine has it; "0" the plain SIMD build Node 20 runs. */
  relaxed: "0" | "1";
}

export interface CheckResult {
  report: LossesReport;
  /** The kernel before training (after gemmReady) and after it. */
  before: KernelReport;
  after: KernelReport;
  crossOriginIsolated: boolean;
}

export async function runCheck(request: CheckRequest): Promise<CheckResult> {
  setNablaEnv({ NABLA_WASM_RELAXED: request.relaxed });
  setGemmThreads(request.threads);
  const before = kernelReport(await gemmReady());
  const report = await runLossesCheck();
  return {
    report,
    before,
    after: kernelReport(gemmKernelInfo()),
    crossOriginIsolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
  };
}

export function parseCheckRequest(search: string): CheckRequest {
  const params = new URLSearchParams(search);
  return {
    threads: params.get("threads") === "1" ? 1 : 2,
    relaxed: params.get("relaxed") === "1" ? "1" : "0",
  };
}
