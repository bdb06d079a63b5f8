import { platform } from "#platform";
import { nativeAddon, nativeAddonProblem } from "../addon.js";
import { fail } from "../errors.js";
import { checkShape, type DType, dtypeOf, fromTypedArray, type Tensor, zeros } from "../tensor.js";
import { type NativeGemm, nativeGemm } from "./native.js";
import { gemmProfiling, recordGemm } from "./profile.js";
import { checkGemm, gemmReference } from "./reference.js";
import { WasmGemm } from "./wasm.js";

export type GemmKernel = "auto" | "reference" | "wasm" | "parallel" | "native";

export interface GemmKernelInfo {
  /** "auto:<kernel used for large float32 products>" or the forced kernel. */
  kernel: string;
  /** Whether the kernel large float32 products use is SIMD. */
  simd: boolean;
  /** Threads the kernel large float32 products use. */
  threads: number;
  /**
   * Instruction set of that kernel: "avx512" | "avx2" | "scalar" (native), "wasm-relaxed-simd" (fused
   * multiply-add, where the engine has relaxed SIMD) | "wasm-simd128", or "js".
   */
  isa: string;
  /** Kernels that loaded on this machine. */
  available: GemmKernel[];
  /** The kernel the most recent gemm call used. */
  lastKernel: string;
  /** Why an optional kernel is missing or degraded (e.g. no SIMD, worker failed to start). */
  notes: string[];
  /** Which build of the package runs: "node" or "browser" (the `browser`/`default` export conditions). */
  platform: "node" | "browser";
}

/** Below this m*n*k the reference kernel wins (no copies); below PARALLEL_MIN_WORK one thread is enough. */
const REFERENCE_MAX_WORK = 4096;
const PARALLEL_MIN_WORK = 1 << 20;

let forced: GemmKernel = "auto";
/** Upper bound on threads for the parallel and native kernels (default: both cores). */
let threadLimit = 2;
let lastKernel = "none";
let wasm: WasmGemm | null | undefined;
const notes: string[] = [];
let native: NativeGemm | null | undefined;

/** The native addon, loaded on first use; null (with the reason in notes) when it was not built or fails. */
function nativeKernel(): NativeGemm | null {
  if (native === undefined) {
    native = nativeAddon();
    const problem = nativeAddonProblem();
    if (problem) notes.push(problem);
  }
  return native;
}

/** The WebAssembly kernel, created on first use; null (with a note) where WebAssembly SIMD is unavailable. */
function wasmKernel(): WasmGemm | null {
  if (wasm === undefined) {
    try {
      wasm = new WasmGemm();
    } catch (e) {
      wasm = null;
      notes.push(`wasm kernel unavailable: ${(e as Error).message}`);
    }
  }
  return wasm;
}

/** The WebAssembly module (for its element-wise loops), or null where it cannot be created. */
export function wasmModuleKernel(): WasmGemm | null {
  return wasmKernel();
}

/** Threads the WebAssembly element-wise loops may use: the parallel kernel's, when it runs large GEMMs. */
export function wasmElementwiseThreads(): number {
  const w = wasm;
  return w && largeKernel() === "parallel" ? Math.min(w.maxThreads, threadLimit) : 1;
}

/** Below this many elements residentZeros returns ordinary zeros (small operands are cheap to copy). */
const RESIDENT_MIN_LENGTH = 1024;

/**
 * Zeros placed where the large-GEMM kernel reads and writes them without copying: inside the WebAssembly
 * kernel's shared memory when that kernel runs large GEMMs here (no native addon, or a forced "wasm" or
 * "parallel"), so GEMMs and axpy/ReLU on them skip the copies in and out; otherwise exactly zeros(). Same
 * values, same bits either way. For buffers a module keeps (parameters, gradients, activations); the block
 * is reused once the tensor's array is garbage-collected, so keep that array referenced while views of it
 * are in use.
 */
export function residentZeros(shape: number[], dtype: DType = "float32"): Tensor {
  const size = checkShape("zeros", shape); // the same checks and message as zeros(), which it stands in for
  const big = dtype === "float32" && size >= RESIDENT_MIN_LENGTH ? largeKernel() : "reference";
  const data = big === "wasm" || big === "parallel" ? wasmKernel()?.residentArray(size) : null;
  return data ? fromTypedArray(data, shape) : zeros(shape, dtype);
}

/** Zeroes n elements of `data` from `offset` when `data` is resident; false (nothing done) otherwise. */
export function zeroIfResident(n: number, data: ArrayLike<number>, offset: number): boolean {
  return wasm != null && data instanceof Float32Array && wasm.zeroResident(n, data, offset);
}

function available(): GemmKernel[] {
  const list: GemmKernel[] = ["reference"];
  const w = wasmKernel();
  if (w) list.push("wasm");
  if (w && w.maxThreads > 1) list.push("parallel");
  if (nativeKernel()) list.push("native");
  return list;
}

/** Forces one kernel for float32 GEMMs ("auto" restores size-based choice). Throws if it is not available. */
export function setGemmKernel(k: GemmKernel): void {
  const allowed: GemmKernel[] = ["auto", "reference", "wasm", "parallel", "native"];
  if (!allowed.includes(k))
    fail("setGemmKernel", `kernel must be one of ${allowed.join(", ")}, got ${String(k)}`);
  if (k !== "auto" && !available().includes(k)) {
    fail("setGemmKernel", `kernel "${k}" is not available here (${notes.join("; ") || "not built"})`);
  }
  forced = k;
}

function largeKernel(): GemmKernel {
  if (forced !== "auto") return forced;
  const list = available();
  return list[list.length - 1];
}

/**
 * Limits the parallel and native kernels to `n` threads (1 or 2; default 2), e.g. for a machine whose second
 * core is busy. Results are bit-identical for any thread count.
 */
export function setGemmThreads(n: number): void {
  if (n !== 1 && n !== 2) fail("setGemmThreads", `threads must be 1 or 2, got ${n}`);
  threadLimit = n;
}

export function gemmKernelInfo(): GemmKernelInfo {
  const big = largeKernel();
  const w = wasmKernel();
  const allNotes = [...notes];
  if (w?.workerProblem) allNotes.push(w.workerProblem);
  const nativeInfo = big === "native" ? nativeKernel()?.info() : undefined;
  const threads = Math.min(
    threadLimit,
    nativeInfo ? nativeInfo.threads : big === "parallel" && w && !w.workerProblem ? w.maxThreads : 1,
  );
  return {
    kernel: forced === "auto" ? `auto:${big}` : big,
    simd: big !== "reference",
    threads,
    isa: nativeInfo ? nativeInfo.isa : big === "reference" ? "js" : (w?.isa ?? "js"),
    available: available(),
    lastKernel,
    notes: allNotes,
    platform: platform.name,
  };
}

/**
 * Creates the kernels and waits for the WebAssembly helper thread to boot. Needed only on a browser's main
 * thread, which cannot block while a worker starts (until then large products run on one thread, with the
 * same bits); elsewhere it resolves at once. Resolves to gemmKernelInfo().
 */
export async function gemmReady(): Promise<GemmKernelInfo> {
  const w = wasmKernel();
  if (w && largeKernel() === "parallel") await w.ready();
  return gemmKernelInfo();
}

let noticeGiven = false;

/**
 * Says once, on the first large product, which kernel runs when it is not the native one and why, so a slow
 * install is never silent. Not when the user chose the kernel (setGemmKernel, NABLA_GEMM_NATIVE=0) or set
 * NABLA_KERNEL_NOTICE=0.
 */
function noticeSlowKernel(big: GemmKernel): void {
  noticeGiven = true;
  if (forced !== "auto" || big === "native") return;
  if (platform.env("NABLA_KERNEL_NOTICE") === "0" || platform.env("NABLA_GEMM_NATIVE") === "0") return;
  const info = gemmKernelInfo();
  const why = info.notes.join("; ") || "no faster kernel loaded";
  platform.notice(
    `@nabla/ndarray: GEMM runs on ${big} (${info.isa}, ${info.threads} thread${info.threads === 1 ? "" : "s"}) ` +
      `because ${why}; ${platform.nativeHint()} (NABLA_KERNEL_NOTICE=0 silences this)`,
  );
}

function isF32(t: Tensor): boolean {
  return t.data instanceof Float32Array;
}

/**
 * C = alpha op(A) op(B) + beta C (op = transpose when the flag is set), any sizes and strides, float32 or
 * float64; returns C. Float32 products go to the kernel set by setGemmKernel, or under "auto" by size:
 * m*n*k < 4096 reference; otherwise the native addon when it loaded (it uses its second thread from
 * m*n*k >= 2^18), else wasm (one thread) below 2^20 and parallel (wasm on 2 threads) above. Float64 (and mixed dtypes) always
 * use the reference kernel: float64 serves gradient checks, where exactness matters more than speed.
 */
export function gemm(
  transA: boolean,
  transB: boolean,
  alpha: number,
  A: Tensor,
  B: Tensor,
  beta: number,
  C: Tensor,
): Tensor {
  if (!gemmProfiling()) return dispatch(transA, transB, alpha, A, B, beta, C);
  const t0 = performance.now();
  dispatch(transA, transB, alpha, A, B, beta, C);
  const k = transA ? A.shape[0] : A.shape[1];
  recordGemm(transA, transB, C.shape[0], C.shape[1], k, lastKernel, performance.now() - t0);
  return C;
}

function dispatch(
  transA: boolean,
  transB: boolean,
  alpha: number,
  A: Tensor,
  B: Tensor,
  beta: number,
  C: Tensor,
): Tensor {
  checkGemm(transA, transB, A, B, C);
  const m = C.shape[0];
  const n = C.shape[1];
  const k = transA ? A.shape[0] : A.shape[1];
  if (m === 0 || n === 0 || !isF32(A) || !isF32(B) || !isF32(C)) {
    lastKernel = "reference";
    return gemmReference(transA, transB, alpha, A, B, beta, C);
  }
  let kernel: GemmKernel = forced;
  if (kernel === "auto") {
    const work = m * n * k;
    const big = largeKernel();
    if (!noticeGiven && work >= PARALLEL_MIN_WORK) noticeSlowKernel(big);
    kernel =
      work < REFERENCE_MAX_WORK
        ? "reference"
        : big === "native"
          ? big
          : work < PARALLEL_MIN_WORK
            ? "wasm"
            : big;
  }
  if (kernel === "native") {
    const lib = nativeKernel();
    if (lib) {
      lastKernel = "native";
      return nativeGemm(lib, transA, transB, alpha, A, B, beta, C, threadLimit);
    }
    kernel = "parallel";
  }
  const w = kernel === "reference" ? null : wasmKernel();
  if (!w) {
    lastKernel = "reference";
    return gemmReference(transA, transB, alpha, A, B, beta, C);
  }
  lastKernel = kernel;
  return w.run(
    transA,
    transB,
    alpha,
    A,
    B,
    beta,
    C,
    kernel === "parallel" ? Math.min(w.maxThreads, threadLimit) : 1,
  );
}

/**
 * Threads (1 or 2) the native kernel would run a float32 product of m·n·k = `work` on under the current
 * setGemmKernel / setGemmThreads, or 0 when gemm would not use the native kernel for it. For native routines
 * that call the kernel themselves (the convolutions) and must give gemm's bits.
 */
export function nativeGemmThreads(work: number): number {
  const native =
    forced === "native" || (forced === "auto" && work >= REFERENCE_MAX_WORK && largeKernel() === "native");
  return native && nativeKernel() ? threadLimit : 0;
}

/** A·B into `out` (allocated with A's dtype when omitted). */
export function matmul(A: Tensor, B: Tensor, out?: Tensor): Tensor {
  if (A.shape.length !== 2 || B.shape.length !== 2) {
    fail("matmul", `A and B must be 2-D, got [${A.shape.join(", ")}] and [${B.shape.join(", ")}]`);
  }
  const C = out ?? zeros([A.shape[0], B.shape[1]], dtypeOf(A));
  return gemm(false, false, 1, A, B, 0, C);
}

export { gemmReference };
