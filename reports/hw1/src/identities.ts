/**
 * Question 1's matrix-calculus identities, each checked numerically: the closed-form
 * gradient is evaluated at random inputs (standard normal, from `new Rng(seed)`) and
 * compared with central differences of the scalar function (see gradcheck.ts).
 * Matrices are row-major Float64Arrays; the shapes are deliberately non-square so a
 * transposition mistake cannot cancel out.
 */
import { Rng } from "@nabla/ndarray";
import { type GradientCheck, gradcheck } from "@nabla/nn";

/** A check of one identity: the gradient record plus the identity in words. */
export interface IdentityCheck extends GradientCheck {
  /** Question label: "1a" … "1d". */
  id: string;
  /** The identity, e.g. "d(xᵀBx)/dx = (B + Bᵀ)x". */
  formula: string;
}

export interface IdentityCheckOptions {
  /** Seed of the random inputs (default 0). */
  seed?: number;
}

function normals(rng: Rng, n: number): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

/** 1a: f(x) = xᵀBx for a non-symmetric B (n×n); ∇f = (B + Bᵀ)x, a column vector. */
export function checkQuadraticFormGradient(opts: IdentityCheckOptions & { n?: number } = {}): IdentityCheck {
  const n = opts.n ?? 5;
  const rng = new Rng(opts.seed ?? 0);
  const B = normals(rng, n * n);
  const x = normals(rng, n);
  const f = () => {
    let s = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s += x[i] * B[i * n + j] * x[j];
    return s;
  };
  const analytical = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += (B[i * n + j] + B[j * n + i]) * x[j];
    analytical[i] = s;
  }
  const r = gradcheck(f, x, analytical, { name: "xᵀBx", wrt: "x", shape: [n] });
  return { ...r, id: "1a", formula: "d(xᵀBx)/dx = (B + Bᵀ)x" };
}

/**
 * 1b: f(X) = tr(VXW) with V p×m, X m×n, W n×p; ∂f/∂X_ij = Σ_k V_ki W_jk, i.e.
 * ∇f = VᵀWᵀ (m×n).
 */
export function checkTraceProductGradient(
  opts: IdentityCheckOptions & { p?: number; m?: number; n?: number } = {},
): IdentityCheck {
  const p = opts.p ?? 3;
  const m = opts.m ?? 4;
  const n = opts.n ?? 5;
  const rng = new Rng(opts.seed ?? 0);
  const V = normals(rng, p * m);
  const X = normals(rng, m * n);
  const W = normals(rng, n * p);
  const f = () => {
    // tr(VXW) = Σ_k Σ_i Σ_j V_ki X_ij W_jk
    let s = 0;
    for (let k = 0; k < p; k++)
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) s += V[k * m + i] * X[i * n + j] * W[j * p + k];
    return s;
  };
  const analytical = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < p; k++) s += V[k * m + i] * W[j * p + k]; // (Vᵀ)_ik (Wᵀ)_kj
      analytical[i * n + j] = s;
    }
  const r = gradcheck(f, X, analytical, { name: "tr(VXW)", wrt: "X", shape: [m, n] });
  return { ...r, id: "1b", formula: "d tr(VXW)/dX = VᵀWᵀ" };
}

/** 1c: f(w) = ‖w‖₂; ∇f = w/‖w‖ (defined for w ≠ 0). */
export function checkNormGradient(opts: IdentityCheckOptions & { n?: number } = {}): IdentityCheck {
  const n = opts.n ?? 6;
  const rng = new Rng(opts.seed ?? 0);
  const w = normals(rng, n);
  const norm = () => {
    let s = 0;
    for (let i = 0; i < n; i++) s += w[i] * w[i];
    return Math.sqrt(s);
  };
  const len = norm();
  const analytical = w.map((v) => v / len);
  const r = gradcheck(norm, w, analytical, { name: "‖w‖", wrt: "w", shape: [n] });
  return { ...r, id: "1c", formula: "d‖w‖/dw = w/‖w‖" };
}

/** 1d: f(S) = tr(S) for S n×n; ∂f/∂S_ij = δ_ij, i.e. ∇f = I. */
export function checkTraceGradient(opts: IdentityCheckOptions & { n?: number } = {}): IdentityCheck {
  const n = opts.n ?? 4;
  const rng = new Rng(opts.seed ?? 0);
  const S = normals(rng, n * n);
  const f = () => {
    let s = 0;
    for (let i = 0; i < n; i++) s += S[i * n + i];
    return s;
  };
  const analytical = new Float64Array(n * n);
  for (let i = 0; i < n; i++) analytical[i * n + i] = 1;
  const r = gradcheck(f, S, analytical, { name: "tr(S)", wrt: "S", shape: [n, n] });
  return { ...r, id: "1d", formula: "d tr(S)/dS = I" };
}

/** All four identity checks, in question order. */
export function checkIdentities(opts: IdentityCheckOptions = {}): IdentityCheck[] {
  return [
    checkQuadraticFormGradient(opts),
    checkTraceProductGradient(opts),
    checkNormGradient(opts),
    checkTraceGradient(opts),
  ];
}
