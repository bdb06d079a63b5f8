import type { Tensor } from "../tensor.js";

/** The optional N-API addon built from native/gemm.cc by scripts/build-native.mjs (loaded by platform/node.ts). */
export interface NativeGemm {
  sgemm(
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    aOffset: number,
    ars: number,
    acs: number,
    b: Float32Array,
    bOffset: number,
    brs: number,
    bcs: number,
    beta: number,
    c: Float32Array,
    cOffset: number,
    crs: number,
    ccs: number,
    threads: number,
  ): void;
  /** stalledCalls: two-thread calls that were slower than one thread (each starts a one-thread window). */
  info(): { isa: string; threads: number; mr: number; nr: number; stalledCalls?: number };
  /** Element-wise kernels on contiguous Float32Array ranges (native/elementwise.cc); op codes in addon.ts. */
  ew(
    op: number,
    n: number,
    out: Float32Array,
    outOffset: number,
    a: Float32Array,
    aOffset: number,
    b: Float32Array,
    bOffset: number,
    scalar: number,
  ): void;
  /** out[i][j] = a[i][j] + row[j] for a row-major rows×cols block (native/elementwise.cc). */
  addRows(
    rows: number,
    cols: number,
    out: Float32Array,
    outOffset: number,
    a: Float32Array,
    aOffset: number,
    row: Float32Array,
    rowOffset: number,
  ): void;
  /** sums[j] = Σ_i a[i][j] in float64, rows in order, for a row-major rows×cols block. */
  columnSums(rows: number, cols: number, a: Float32Array, aOffset: number, sums: Float64Array): void;
}

/** C = alpha op(A) op(B) + beta C on float32 views in place: the addon reads the views through their strides. */
export function nativeGemm(
  lib: NativeGemm,
  transA: boolean,
  transB: boolean,
  alpha: number,
  A: Tensor,
  B: Tensor,
  beta: number,
  C: Tensor,
  threads: number,
): Tensor {
  const [m, n] = C.shape;
  const k = transA ? A.shape[0] : A.shape[1];
  const ars = transA ? A.stride[1] : A.stride[0];
  const acs = transA ? A.stride[0] : A.stride[1];
  const brs = transB ? B.stride[1] : B.stride[0];
  const bcs = transB ? B.stride[0] : B.stride[1];
  lib.sgemm(
    m,
    n,
    k,
    alpha,
    A.data as Float32Array,
    A.offset,
    ars,
    acs,
    B.data as Float32Array,
    B.offset,
    brs,
    bcs,
    beta,
    C.data as Float32Array,
    C.offset,
    C.stride[0],
    C.stride[1],
    threads,
  );
  return C;
}
