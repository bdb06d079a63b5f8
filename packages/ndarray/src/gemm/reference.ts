import { fail } from "../errors.js";
import type { Tensor } from "../tensor.js";

/** Sizes of C = alpha op(A) op(B) + beta C: op(A) is m x k, op(B) is k x n, C is m x n. */
export interface GemmShape {
  m: number;
  n: number;
  k: number;
}

function expectMatrix(name: string, t: Tensor): void {
  if (t.shape.length !== 2) fail("gemm", `${name} must be 2-D, got shape [${t.shape.join(", ")}]`);
}

/** Validates ranks and inner/outer dimensions without allocating (gemm calls it on every product). */
export function checkGemm(transA: boolean, transB: boolean, A: Tensor, B: Tensor, C: Tensor): void {
  expectMatrix("A", A);
  expectMatrix("B", B);
  expectMatrix("C", C);
  const m = transA ? A.shape[1] : A.shape[0];
  const k = transA ? A.shape[0] : A.shape[1];
  const kb = transB ? B.shape[1] : B.shape[0];
  const n = transB ? B.shape[0] : B.shape[1];
  if (k !== kb) {
    fail(
      "gemm",
      `inner dimensions differ: op(A) is ${m}x${k}, op(B) is ${kb}x${n} (transA=${transA}, transB=${transB})`,
    );
  }
  if (C.shape[0] !== m || C.shape[1] !== n) {
    fail("gemm", `C has shape [${C.shape.join(", ")}], expected [${m}, ${n}]`);
  }
  // As in BLAS, C must not share memory with A or B (kernels write C while still reading A and B).
  if (overlaps(C, A)) fail("gemm", "C overlaps A in memory; write the product to a separate buffer");
  if (overlaps(C, B)) fail("gemm", "C overlaps B in memory; write the product to a separate buffer");
}

/** Lowest and highest data index a 2-D view touches (strides may be negative). */
function span(t: Tensor, bound: 0 | 1): number {
  let at = t.offset;
  for (let d = 0; d < 2; d++) {
    const reach = (t.shape[d] - 1) * t.stride[d];
    if (reach > 0 === (bound === 1)) at += reach;
  }
  return at;
}

function overlaps(x: Tensor, y: Tensor): boolean {
  if (x.data.buffer !== y.data.buffer || x.size === 0 || y.size === 0) return false;
  const xs = x.data.byteOffset / x.data.BYTES_PER_ELEMENT;
  const ys = y.data.byteOffset / y.data.BYTES_PER_ELEMENT;
  if (x.data.BYTES_PER_ELEMENT !== y.data.BYTES_PER_ELEMENT) return true; // different views of one buffer: be safe
  return xs + span(x, 0) <= ys + span(y, 1) && ys + span(y, 0) <= xs + span(x, 1);
}

/** Validates and returns m, n, k. */
export function gemmShape(transA: boolean, transB: boolean, A: Tensor, B: Tensor, C: Tensor): GemmShape {
  checkGemm(transA, transB, A, B, C);
  return { m: C.shape[0], n: C.shape[1], k: transA ? A.shape[0] : A.shape[1] };
}

/**
 * Plain TypeScript GEMM, C = alpha op(A) op(B) + beta C, for any strides and dtypes. Each C element is a
 * float64 dot product. As in BLAS, beta = 0 overwrites C without reading it (NaN in C does not propagate).
 * Kept as the reference every fast kernel is tested against; also the float64 kernel.
 */
export function gemmReference(
  transA: boolean,
  transB: boolean,
  alpha: number,
  A: Tensor,
  B: Tensor,
  beta: number,
  C: Tensor,
): Tensor {
  const { m, n, k } = gemmShape(transA, transB, A, B, C);
  // Element strides of op(A) (rows i, inner p) and op(B) (inner p, columns j).
  const ai = transA ? A.stride[1] : A.stride[0];
  const ap = transA ? A.stride[0] : A.stride[1];
  const bp = transB ? B.stride[1] : B.stride[0];
  const bj = transB ? B.stride[0] : B.stride[1];
  const ad = A.data,
    bd = B.data,
    cd = C.data;
  const cs0 = C.stride[0],
    cs1 = C.stride[1];
  for (let i = 0; i < m; i++) {
    const aRow = A.offset + i * ai;
    for (let j = 0; j < n; j++) {
      let sum = 0;
      let pa = aRow;
      let pb = B.offset + j * bj;
      for (let p = 0; p < k; p++, pa += ap, pb += bp) sum += ad[pa] * bd[pb];
      const c = C.offset + i * cs0 + j * cs1;
      cd[c] = beta === 0 ? alpha * sum : alpha * sum + beta * cd[c];
    }
  }
  return C;
}
