/**
 * Element-wise activations with PyTorch's formulas, for a batch of any shape: Tanh, Sigmoid, LeakyReLU and
 * GELU (the exact erf form), and the erf GELU needs.
 */
import { contiguous, type FloatArray, isContiguous, type Tensor, zeros } from "@nabla/ndarray";
import { activationBuffers } from "./activations.js";
import { check, NnError } from "./errors.js";
import { ModuleBase } from "./module.js";
import { BufferCache, dtypeOf, expectBatch, expectDtype, expectSameShape } from "./tensors.js";

/*
 * erf follows the method and coefficients of fdlibm's s_erf.c (also FreeBSD's msun and musl), whose error
 * is below one ulp:
 *
 * ====================================================
 * Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
 *
 * Developed at SunPro, a Sun Microsystems, Inc. business.
 * Permission to use, copy, modify, and distribute this
 * software is freely granted, provided that this notice
 * is preserved.
 * ====================================================
 *
 * The constants are fdlibm's doubles, each written as the shortest decimal that reads back as it.
 */
const ERX = 0.8450629115104675; // fdlibm's c: 0.84506291151 rounded to 24 bits, near erf on [0.84375, 1.25)
const EFX = 0.1283791670955126; // 2/√π − 1
const EFX8 = 1.0270333367641007; // 8·EFX
// erf(x) = x + x·P(x²)/Q(x²) on |x| < 0.84375
const PP = [
  0.12837916709551256, -0.3250421072470015, -0.02848174957559851, -0.005770270296489442,
  -0.000023763016656650163,
] as const;
const QQ = [
  0.39791722395915535, 0.0650222499887673, 0.005081306281875766, 0.00013249473800432164,
  -0.000003960228278775368,
] as const;
// erf(1 + s) = ERX + P(s)/Q(s) on 0.84375 ≤ |x| < 1.25
const PA = [
  -0.0023621185607526594, 0.41485611868374833, -0.3722078760357013, 0.31834661990116175, -0.11089469428239668,
  0.035478304325618236, -0.002166375594868791,
] as const;
const QA = [
  0.10642088040084423, 0.540397917702171, 0.07182865441419627, 0.12617121980876164, 0.01363708391202905,
  0.011984499846799107,
] as const;
// erfc(x) = exp(−x² − 0.5625 + R(1/x²)/S(1/x²))/x on 1.25 ≤ |x| < ERFC_SPLIT (RA, SA) and above (RB, SB)
const RA = [
  -0.009864944034847148, -0.6938585727071818, -10.558626225323291, -62.375332450326006, -162.39666946257347,
  -184.60509290671104, -81.2874355063066, -9.814329344169145,
] as const;
const SA = [
  19.651271667439257, 137.65775414351904, 434.56587747522923, 645.3872717332679, 429.00814002756783,
  108.63500554177944, 6.570249770319282, -0.0604244152148581,
] as const;
const RB = [
  -0.0098649429247001, -0.799283237680523, -17.757954917754752, -160.63638485582192, -637.5664433683896,
  -1025.0951316110772, -483.5191916086514,
] as const;
const SB = [
  30.33806074348246, 325.7925129965739, 1536.729586084437, 3199.8582195085955, 2553.0504064331644,
  474.52854120695537, -22.44095244658582,
] as const;
/** ≈ 1/0.35: the double whose high word is 0x4006DB6E and low word 0, fdlibm's split between RA/SA and RB/SB. */
const ERFC_SPLIT = 2.8571434020996094;

// x with the low 32 bits of its mantissa cleared, so z·z is exact in exp(−z² …)·exp((z − x)(z + x) …).
const word = new Float64Array(1);
const words = new Uint32Array(word.buffer);
const LOW_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;
function clearLowWord(x: number): number {
  word[0] = x;
  words[LOW_WORD] = 0;
  return word[0];
}

/** The error function erf(x) = 2/√π ∫₀ˣ e^(−t²) dt in float64, within one ulp (fdlibm's method). */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (!(ax < 6)) return Number.isNaN(x) ? x : x > 0 ? 1 : -1; // 1 − erf(6) < 2^−53
  if (ax < 0.84375) {
    if (ax < 2 ** -28) return ax < 2 ** -1015 ? 0.125 * (8 * x + EFX8 * x) : x + EFX * x; // 0.125·8 avoids underflow
    const z = x * x;
    const r = PP[0] + z * (PP[1] + z * (PP[2] + z * (PP[3] + z * PP[4])));
    const s = 1 + z * (QQ[0] + z * (QQ[1] + z * (QQ[2] + z * (QQ[3] + z * QQ[4]))));
    return x + x * (r / s);
  }
  if (ax < 1.25) {
    const s = ax - 1;
    const p = PA[0] + s * (PA[1] + s * (PA[2] + s * (PA[3] + s * (PA[4] + s * (PA[5] + s * PA[6])))));
    const q = 1 + s * (QA[0] + s * (QA[1] + s * (QA[2] + s * (QA[3] + s * (QA[4] + s * QA[5])))));
    return x >= 0 ? ERX + p / q : -ERX - p / q;
  }
  const s = 1 / (ax * ax);
  let r: number;
  let q: number;
  if (ax < ERFC_SPLIT) {
    r = RA[0] + s * (RA[1] + s * (RA[2] + s * (RA[3] + s * (RA[4] + s * (RA[5] + s * (RA[6] + s * RA[7]))))));
    q =
      1 +
      s *
        (SA[0] +
          s * (SA[1] + s * (SA[2] + s * (SA[3] + s * (SA[4] + s * (SA[5] + s * (SA[6] + s * SA[7])))))));
  } else {
    r = RB[0] + s * (RB[1] + s * (RB[2] + s * (RB[3] + s * (RB[4] + s * (RB[5] + s * RB[6])))));
    q = 1 + s * (SB[0] + s * (SB[1] + s * (SB[2] + s * (SB[3] + s * (SB[4] + s * (SB[5] + s * SB[6]))))));
  }
  const z = clearLowWord(ax);
  const erfc = (Math.exp(-z * z - 0.5625) * Math.exp((z - ax) * (z + ax) + r / q)) / ax;
  return x >= 0 ? 1 - erfc : erfc - 1;
}

/**
 * An activation y = f(x) applied to each value of a batch of any shape; backward is dX = dY ∘ f′(x), with
 * f′ read from what forward kept: its own output when f′ is a function of it (Tanh, Sigmoid, LeakyReLU),
 * so the caller's input may be reused, else a reference to the input (GELU), as the Module contract allows.
 * Outputs and input gradients are per-shape buffers; a non-contiguous input or dY is copied first.
 */
abstract class ElementwiseActivation extends ModuleBase {
  private readonly cache = activationBuffers();
  private output: Tensor | null = null;
  private saved: Tensor | null = null;
  // built once, so a step builds no strings
  private readonly forwardInput: string;
  private readonly backwardWhere: string;
  private readonly backwardDy: string;

  protected constructor(
    name: string,
    private readonly savesInput: boolean,
  ) {
    super();
    this.forwardInput = `${name}.forward: input`;
    this.backwardWhere = `${name}.backward`;
    this.backwardDy = `${name}.backward: dY`;
  }

  /** y[i] = f(x[xo + i]) for i < n. */
  protected abstract apply(y: FloatArray, x: FloatArray, xo: number, n: number): void;
  /** dx[i] = g[go + i] · f′ at i, from the kept values s[so + i] (the output or the input). */
  protected abstract derive(
    dx: FloatArray,
    g: FloatArray,
    go: number,
    s: FloatArray,
    so: number,
    n: number,
  ): void;

  forward(x: Tensor): Tensor {
    expectBatch(x, this.forwardInput);
    const { y } = this.cache.get(x.shape, dtypeOf(x, this.forwardInput));
    const src = isContiguous(x) ? x : contiguous(x);
    this.apply(y.data, src.data, src.offset, y.size);
    this.output = y;
    this.saved = this.savesInput ? src : y;
    return y;
  }

  backward(dY: Tensor): Tensor {
    const y = this.output;
    const saved = this.saved;
    if (y === null || saved === null) throw new NnError(`${this.backwardWhere}: called before forward`);
    expectSameShape(dY, y, this.backwardWhere, "dY");
    const dtype = dtypeOf(y, this.backwardWhere);
    expectDtype(dY, dtype, this.backwardDy);
    const { dx } = this.cache.get(y.shape, dtype);
    const g = isContiguous(dY) ? dY : contiguous(dY);
    this.derive(dx.data, g.data, g.offset, saved.data, saved.offset, dx.size);
    return dx;
  }
}

/*
 * The loops below are unrolled by four, with index sums written `(p + q) | 0` (offsets are far below 2³¹, and
 * the `| 0` spares the JIT an overflow check on every index). Each computes exactly the per-element formula
 * of its plain form, so the unrolling changes no bits.
 */

/** tanh(x); backward dY ∘ (1 − y²) from its own output, as PyTorch's tanh_backward. */
export class Tanh extends ElementwiseActivation {
  constructor() {
    super("Tanh", false);
  }

  protected apply(y: FloatArray, x: FloatArray, xo: number, n: number): void {
    for (let i = 0; i < n; i++) y[i] = Math.tanh(x[xo + i]);
  }

  protected derive(dx: FloatArray, g: FloatArray, go: number, s: FloatArray, so: number, n: number): void {
    const dg = go | 0;
    const ds = so | 0;
    const end4 = (n - (n % 4)) | 0;
    let i = 0;
    for (; i < end4; i = (i + 4) | 0) {
      const p = (i + dg) | 0;
      const q = (i + ds) | 0;
      const t0 = s[q];
      const t1 = s[(q + 1) | 0];
      const t2 = s[(q + 2) | 0];
      const t3 = s[(q + 3) | 0];
      dx[i] = g[p] * (1 - t0 * t0);
      dx[(i + 1) | 0] = g[(p + 1) | 0] * (1 - t1 * t1);
      dx[(i + 2) | 0] = g[(p + 2) | 0] * (1 - t2 * t2);
      dx[(i + 3) | 0] = g[(p + 3) | 0] * (1 - t3 * t3);
    }
    for (; i < n; i++) {
      const t = s[so + i];
      dx[i] = g[go + i] * (1 - t * t);
    }
  }
}

/** σ(x) = 1/(1 + e^(−x)) (exactly 0 or 1 far in the tails, no overflow); backward dY ∘ (1 − y) ∘ y from its own output. */
export class Sigmoid extends ElementwiseActivation {
  constructor() {
    super("Sigmoid", false);
  }

  protected apply(y: FloatArray, x: FloatArray, xo: number, n: number): void {
    for (let i = 0; i < n; i++) y[i] = 1 / (1 + Math.exp(-x[xo + i]));
  }

  protected derive(dx: FloatArray, g: FloatArray, go: number, s: FloatArray, so: number, n: number): void {
    const dg = go | 0;
    const ds = so | 0;
    const end4 = (n - (n % 4)) | 0;
    let i = 0;
    for (; i < end4; i = (i + 4) | 0) {
      const p = (i + dg) | 0;
      const q = (i + ds) | 0;
      const t0 = s[q];
      const t1 = s[(q + 1) | 0];
      const t2 = s[(q + 2) | 0];
      const t3 = s[(q + 3) | 0];
      dx[i] = g[p] * (1 - t0) * t0;
      dx[(i + 1) | 0] = g[(p + 1) | 0] * (1 - t1) * t1;
      dx[(i + 2) | 0] = g[(p + 2) | 0] * (1 - t2) * t2;
      dx[(i + 3) | 0] = g[(p + 3) | 0] * (1 - t3) * t3;
    }
    for (; i < n; i++) {
      const t = s[so + i];
      dx[i] = g[go + i] * (1 - t) * t;
    }
  }
}

export interface LeakyReLUOptions {
  /** Slope for x ≤ 0, ≥ 0. Default 0.01, as PyTorch's negative_slope. */
  negativeSlope?: number;
}

/**
 * x for x > 0, negativeSlope·x otherwise; backward dY, or negativeSlope·dY where x ≤ 0 (so at 0, as
 * PyTorch). The mask is read from the output (y > 0 exactly when x > 0), which needs negativeSlope ≥ 0: a
 * negative slope makes y > 0 on both sides, and is refused (PyTorch's in-place form refuses it too).
 *
 * Both passes multiply by factor[+(v > 0)], factor = [negativeSlope, 1], rather than branch on the sign:
 * signs of activations are as good as random, so a branch is mispredicted half the time (that costs more
 * than the rest of the loop), while v·1 = v keeps the bits of `v > 0 ? v : v·negativeSlope`.
 */
export class LeakyReLU extends ElementwiseActivation {
  readonly negativeSlope: number;
  /** [negativeSlope, 1], indexed by +(v > 0). */
  private readonly factor: Float64Array;

  constructor(opts: LeakyReLUOptions = {}) {
    super("LeakyReLU", false);
    const slope = opts.negativeSlope ?? 0.01;
    check(
      Number.isFinite(slope) && slope >= 0,
      "LeakyReLU",
      `negativeSlope must be a finite number ≥ 0, got ${slope}`,
    );
    this.negativeSlope = slope;
    this.factor = Float64Array.of(slope, 1);
  }

  protected apply(y: FloatArray, x: FloatArray, xo: number, n: number): void {
    const f = this.factor;
    const d = xo | 0;
    const end4 = (n - (n % 4)) | 0;
    let i = 0;
    for (; i < end4; i = (i + 4) | 0) {
      const p = (i + d) | 0;
      const v0 = x[p];
      const v1 = x[(p + 1) | 0];
      const v2 = x[(p + 2) | 0];
      const v3 = x[(p + 3) | 0];
      y[i] = v0 * f[+(v0 > 0)];
      y[(i + 1) | 0] = v1 * f[+(v1 > 0)];
      y[(i + 2) | 0] = v2 * f[+(v2 > 0)];
      y[(i + 3) | 0] = v3 * f[+(v3 > 0)];
    }
    for (; i < n; i++) {
      const v = x[xo + i];
      y[i] = v * f[+(v > 0)];
    }
  }

  protected derive(dx: FloatArray, g: FloatArray, go: number, s: FloatArray, so: number, n: number): void {
    const f = this.factor;
    const dg = go | 0;
    const ds = so | 0;
    const end4 = (n - (n % 4)) | 0;
    let i = 0;
    for (; i < end4; i = (i + 4) | 0) {
      const p = (i + dg) | 0;
      const q = (i + ds) | 0;
      dx[i] = g[p] * f[+(s[q] > 0)];
      dx[(i + 1) | 0] = g[(p + 1) | 0] * f[+(s[(q + 1) | 0] > 0)];
      dx[(i + 2) | 0] = g[(p + 2) | 0] * f[+(s[(q + 2) | 0] > 0)];
      dx[(i + 3) | 0] = g[(p + 3) | 0] * f[+(s[(q + 3) | 0] > 0)];
    }
    for (; i < n; i++) dx[i] = g[go + i] * f[+(s[so + i] > 0)];
  }
}

/** 1/√(2π), written as PyTorch's kBeta = M_2_SQRTPI · M_SQRT1_2 · 0.5. */
const GELU_BETA = 1.1283791670955126 * Math.SQRT1_2 * 0.5;

/**
 * GELU(x) = x·Φ(x) = 0.5·x·(1 + erf(x/√2)) (PyTorch's approximate="none"); backward dY ∘ (Φ(x) + x·φ(x)),
 * φ(x) = e^(−x²/2)/√(2π). f′ is not a function of y (GELU is not monotone), so it keeps the input, and
 * forward keeps each Φ(x) it computed (in float64, a per-shape buffer), so backward does not evaluate erf
 * again: the same values, so the same bits, for about half the cost of a step.
 */
export class GELU extends ElementwiseActivation {
  private readonly cdfCache = new BufferCache((shape) => zeros([...shape], "float64"));
  /** Φ(x) of the last forward, element by element. */
  private cdf: Float64Array = new Float64Array(0);

  constructor() {
    super("GELU", true);
  }

  override forward(x: Tensor): Tensor {
    // the base's checks first, so a refused input leaves the last forward's Φ with its output
    expectBatch(x, "GELU.forward: input");
    dtypeOf(x, "GELU.forward: input");
    this.cdf = this.cdfCache.get(x.shape, "float64").data as Float64Array;
    return super.forward(x);
  }

  protected apply(y: FloatArray, x: FloatArray, xo: number, n: number): void {
    const cdf = this.cdf;
    for (let i = 0; i < n; i++) {
      const v = x[xo + i];
      const e = erf(v * Math.SQRT1_2);
      cdf[i] = 0.5 * (1 + e);
      y[i] = v * 0.5 * (1 + e);
    }
  }

  protected derive(dx: FloatArray, g: FloatArray, go: number, s: FloatArray, so: number, n: number): void {
    const cdf = this.cdf;
    for (let i = 0; i < n; i++) {
      const v = s[so + i];
      const pdf = GELU_BETA * Math.exp(v * v * -0.5);
      dx[i] = g[go + i] * (cdf[i] + v * pdf);
    }
  }
}
