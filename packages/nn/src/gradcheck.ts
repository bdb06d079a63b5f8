/**
 * Finite-difference gradient checking, as in the original assignment's unit tests:
 * central differences with h = 1e-5 in float64, compared with the elementwise relative
 * error  max_i |a_i − n_i| / max(1e-8, |a_i| + |n_i|).
 */
import { NnError } from "./errors.js";

/** Step of the central difference. */
export const GRADCHECK_STEP = 1e-5;
/** Floor of the relative-error denominator, so two zeros compare as equal. */
export const GRADCHECK_FLOOR = 1e-8;

/** One comparison of an analytical gradient with a numerical one. */
export interface GradientCheck {
  /** What was differentiated, e.g. "Linear" or "1a". */
  name: string;
  /** With respect to what, e.g. "weight", "input", "x". */
  wrt: string;
  /** Shape of the variable (and of both gradients); the arrays below are row-major. */
  shape: number[];
  analytical: Float64Array;
  numerical: Float64Array;
  /** max_i |a_i − n_i| / max(1e-8, |a_i| + |n_i|). */
  maxRelativeError: number;
  /** max_i |a_i − n_i|, for context when gradients are tiny. */
  maxAbsoluteError: number;
}

/** A writable float64 vector: a Float64Array or a plain number array. */
export type Float64Vector = Float64Array | number[];

/**
 * Central-difference gradient of the scalar `f` with respect to every entry of `x`:
 * g_i = (f(x + h e_i) − f(x − h e_i)) / (2h). `f` must read `x` (which is perturbed in
 * place, one entry at a time, and restored exactly afterwards). `x` must be float64 —
 * a step of 1e-5 in float32 would be lost in rounding.
 */
export function numericalGradient(
  f: () => number,
  x: Float64Vector,
  h: number = GRADCHECK_STEP,
): Float64Array {
  if (!(x instanceof Float64Array || Array.isArray(x))) {
    throw new NnError(
      "numericalGradient: x must be a Float64Array or number[] (float64), not a float32 array",
    );
  }
  if (!(h > 0)) throw new NnError(`numericalGradient: h must be positive, got ${h}`);
  const grad = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const saved = x[i];
    x[i] = saved + h;
    const plus = f();
    x[i] = saved - h;
    const minus = f();
    x[i] = saved;
    grad[i] = (plus - minus) / (2 * h);
  }
  return grad;
}

/** max_i |a_i − b_i| / max(1e-8, |a_i| + |b_i|); 0 for empty inputs; NaN anywhere gives NaN. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) {
    throw new NnError(`relativeError: lengths differ (${a.length} vs ${b.length})`);
  }
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]) / Math.max(GRADCHECK_FLOOR, Math.abs(a[i]) + Math.abs(b[i]));
    if (Number.isNaN(e)) return Number.NaN;
    if (e > worst) worst = e;
  }
  return worst;
}

function maxAbsoluteDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]);
    if (Number.isNaN(e)) return Number.NaN;
    if (e > worst) worst = e;
  }
  return worst;
}

export interface GradcheckOptions {
  h?: number;
  name?: string;
  wrt?: string;
  /** Shape to record; defaults to [x.length]. */
  shape?: number[];
}

/**
 * Compares `analytical` (dF/dx at the current x) with the central-difference gradient
 * of `f` at x. `f` must read `x`, which is perturbed in place and restored.
 */
export function gradcheck(
  f: () => number,
  x: Float64Vector,
  analytical: ArrayLike<number>,
  opts: GradcheckOptions = {},
): GradientCheck {
  if (analytical.length !== x.length) {
    throw new NnError(`gradcheck: analytical gradient has ${analytical.length} entries, x has ${x.length}`);
  }
  const numerical = numericalGradient(f, x, opts.h ?? GRADCHECK_STEP);
  const a = Float64Array.from(analytical);
  return {
    name: opts.name ?? "f",
    wrt: opts.wrt ?? "x",
    shape: opts.shape ?? [x.length],
    analytical: a,
    numerical,
    maxRelativeError: relativeError(a, numerical),
    maxAbsoluteError: maxAbsoluteDifference(a, numerical),
  };
}
