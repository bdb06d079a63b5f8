import { fail } from "../errors.js";
import { dtypeOf, type Tensor, zeros } from "../tensor.js";
import { gemmReference } from "./reference.js";

export type GemmKernel = "auto" | "reference" | "wasm" | "parallel" | "native";

export interface GemmKernelInfo {
  /** The kernel float32 GEMMs use right now ("auto" resolves per call by size; see `auto`). */
  kernel: string;
  simd: boolean;
  threads: number;
  /** Kernels that loaded on this machine. */
  available: string[];
  /** Why an optional kernel is missing (e.g. the native addon did not build). */
  notes: string[];
}

let forced: GemmKernel = "auto";

/** Forces one kernel for float32 GEMMs ("auto" restores size-based choice). Throws if it is not available. */
export function setGemmKernel(k: GemmKernel): void {
  const allowed: GemmKernel[] = ["auto", "reference", "wasm", "parallel", "native"];
  if (!allowed.includes(k))
    fail("setGemmKernel", `kernel must be one of ${allowed.join(", ")}, got ${String(k)}`);
  if (k !== "auto" && k !== "reference")
    fail("setGemmKernel", `kernel "${k}" is not available in this build`);
  forced = k;
}

export function gemmKernelInfo(): GemmKernelInfo {
  return { kernel: forced, simd: false, threads: 1, available: ["reference"], notes: [] };
}

/**
 * C = alpha op(A) op(B) + beta C (op = transpose when the flag is set), any sizes and strides, float32 or
 * float64; returns C. Float32 calls go to the fastest kernel for their size; anything else uses the
 * reference kernel.
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
  return gemmReference(transA, transB, alpha, A, B, beta, C);
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
