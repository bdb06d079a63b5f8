import { fail } from "./errors.js";
import { type FloatArray, isContiguous, isFloatArray, type Tensor } from "./tensor.js";

const TWO_POW_32 = 4294967296;
const TWO_POW_M24 = 1 / 16777216;
const TWO_POW_M53 = 1 / 9007199254740992;

/**
 * splitmix32 (the 32-bit splitmix variant with the murmur3 fmix32 finalizer): expands one 32-bit seed into the
 * four words of xoshiro state. `state.s` advances by the golden-ratio constant 0x9e3779b9 per output.
 */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * Seeded PRNG: xoshiro128** 1.1 (Blackman & Vigna) seeded through splitmix32. All integer work uses 32-bit
 * Math.imul/shift arithmetic, so every platform produces the same stream for the same seed.
 * - nextUint32(): the raw xoshiro128** output.
 * - uniform(): 53-bit double in [0,1) from two outputs: ((a >>> 5) * 2^26 + (b >>> 6)) / 2^53.
 * - normal(): Box-Muller on two uniforms u1,u2: r = sqrt(-2 ln(1-u1)), returns r cos(2 pi u2) and caches
 *   r sin(2 pi u2) for the next call. (Math.log/cos/sin come from V8's fdlibm port, identical on every
 *   platform Node runs on.)
 * - fillUniform: float32 targets use 24 bits of one output ((x >>> 8) / 2^24, so lo + (hi-lo)u never rounds up
 *   to hi); float64 targets use uniform().
 * - fillNormal(t): exactly the values of successive normal() calls, written in row-major order.
 * - integers below a bound use rejection (OpenBSD arc4random_uniform), so permutation/shuffle are unbiased.
 */
/** The whole state of an {@link Rng} (JSON-safe): the four xoshiro words (int32) and a cached normal() value. */
export interface RngState {
  s: [number, number, number, number];
  spare: number;
  hasSpare: boolean;
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare = 0;
  private hasSpare = false;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) fail("Rng", `seed must be a finite number, got ${seed}`);
    const st = { s: Math.trunc(seed) | 0 };
    this.s0 = splitmix32(st) | 0;
    this.s1 = splitmix32(st) | 0;
    this.s2 = splitmix32(st) | 0;
    this.s3 = splitmix32(st) | 0;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
  }

  /** A copy of the generator's state: setState() on any Rng continues this stream exactly (resumed training). */
  getState(): RngState {
    return { s: [this.s0, this.s1, this.s2, this.s3], spare: this.spare, hasSpare: this.hasSpare };
  }

  /** Continues the stream of a getState() snapshot; checked whole before anything changes. */
  setState(state: RngState): void {
    const s = state?.s;
    if (!Array.isArray(s) || s.length !== 4 || !s.every((w) => Number.isInteger(w) && (w | 0) === w)) {
      fail("Rng.setState", `s must be four int32 words, got ${JSON.stringify(s)}`);
    }
    if ((s[0] | s[1] | s[2] | s[3]) === 0) fail("Rng.setState", "s must not be all zero (a fixed point)");
    if (typeof state.hasSpare !== "boolean" || !Number.isFinite(state.spare)) {
      fail("Rng.setState", "spare must be a finite number and hasSpare a boolean");
    }
    [this.s0, this.s1, this.s2, this.s3] = s;
    this.spare = state.spare;
    this.hasSpare = state.hasSpare;
  }

  nextUint32(): number {
    const s1 = this.s1;
    const x = Math.imul(s1, 5);
    const result = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) * TWO_POW_M53;
  }

  /** Standard normal N(0, 1) by Box-Muller (pairs; the second value of a pair is returned by the next call). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    const u1 = 1 - this.uniform(); // (0, 1], so the log is finite
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    this.spare = r * Math.sin(theta);
    this.hasSpare = true;
    return r * Math.cos(theta);
  }

  /** Uniform integer in [0, bound) without modulo bias; bound must be an integer in 1..2^32. */
  below(bound: number): number {
    if (!Number.isInteger(bound) || bound < 1 || bound > TWO_POW_32) {
      fail("Rng.below", `bound must be an integer in 1..2^32, got ${bound}`);
    }
    const threshold = (TWO_POW_32 - bound) % bound;
    for (;;) {
      const r = this.nextUint32();
      if (r >= threshold) return r % bound;
    }
  }

  fillUniform(t: Tensor | FloatArray, lo = 0, hi = 1): void {
    const span = hi - lo;
    forEachSlot(
      t,
      (data) => data instanceof Float32Array,
      (data, i, f32) => {
        data[i] = lo + span * (f32 ? (this.nextUint32() >>> 8) * TWO_POW_M24 : this.uniform());
      },
    );
  }

  fillNormal(t: Tensor | FloatArray, mean = 0, std = 1): void {
    if (isFloatArray(t) || isContiguous(t)) {
      // Fast path (model initialisation fills ~400k values): one flat loop, same values as the general walk.
      const data = isFloatArray(t) ? t : t.data;
      const start = isFloatArray(t) ? 0 : t.offset;
      const end = start + (isFloatArray(t) ? t.length : t.size);
      for (let i = start; i < end; i++) data[i] = mean + std * this.normal();
      return;
    }
    forEachSlot(
      t,
      () => false,
      (data, i) => {
        data[i] = mean + std * this.normal();
      },
    );
  }

  /** A uniformly random permutation of 0..n-1 (Fisher-Yates on the identity). */
  permutation(n: number): Uint32Array {
    if (!Number.isInteger(n) || n < 0) fail("Rng.permutation", `n must be a non-negative integer, got ${n}`);
    const p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    this.shuffle(p);
    return p;
  }

  /** In-place Fisher-Yates shuffle (from the last index down, j = below(i + 1)). */
  shuffle(a: { length: number; [i: number]: number }): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const tmp = a[i];
      a[i] = a[j];
      a[j] = tmp;
    }
  }
}

/** Visits every element slot of a tensor (any strides) or typed array in row-major order. */
function forEachSlot(
  t: Tensor | FloatArray,
  flag: (data: FloatArray) => boolean,
  visit: (data: FloatArray, index: number, flag: boolean) => void,
): void {
  if (isFloatArray(t)) {
    const f = flag(t);
    for (let i = 0; i < t.length; i++) visit(t, i, f);
    return;
  }
  const f = flag(t.data);
  const dims = t.shape.length;
  const n = t.size;
  const idx = new Array<number>(dims).fill(0);
  for (let k = 0; k < n; k++) {
    let o = t.offset;
    for (let d = 0; d < dims; d++) o += idx[d] * t.stride[d];
    visit(t.data, o, f);
    for (let d = dims - 1; d >= 0; d--) {
      if (++idx[d] < t.shape[d]) break;
      idx[d] = 0;
    }
  }
}
