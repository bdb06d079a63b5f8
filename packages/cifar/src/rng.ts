/**
 * A small seeded PRNG private to this package (it depends on no other nabla package).
 *
 * Algorithm: xoshiro128** (Blackman & Vigna, 2018) on four 32-bit words, seeded by running SplitMix32
 * (the 32-bit variant of SplitMix64's finaliser, constants 0x9e3779b9 / 0x85ebca6b / 0xc2b2ae35) from the
 * seed. Only 32-bit integer arithmetic (Math.imul, >>>) is used, so the stream is identical on every platform.
 * Integers in [0, n) use rejection sampling (no modulo bias). Used for the train/validation split, the
 * per-epoch shuffle and the synthetic data.
 */
export class SeededRng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`SeededRng: seed must be a finite number, got ${seed}`);
    let x = Math.trunc(seed) >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      return mix32(x);
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
  }

  /** Next uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n), n in [1, 2^32], unbiased (rejection sampling). */
  nextBelow(n: number): number {
    if (!(n >= 1 && n <= 4294967296 && Number.isInteger(n))) {
      throw new RangeError(`SeededRng.nextBelow: n must be an integer in [1, 2^32], got ${n}`);
    }
    const limit = 4294967296 - (4294967296 % n); // largest multiple of n not above 2^32
    for (;;) {
      const r = this.nextUint32();
      if (r < limit) return r % n;
    }
  }

  /** Standard normal by Box–Muller (one value per call; the sine half is discarded for simplicity). */
  normal(): number {
    const u1 = (this.nextUint32() + 1) / 4294967297; // (0, 1): log stays finite
    const u2 = this.uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** In-place Fisher–Yates shuffle (Durstenfeld): i from the end, j uniform in [0, i]. */
  shuffle(a: { length: number; [i: number]: number }): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.nextBelow(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  /** A uniformly random permutation of 0..n-1: identity, then shuffle. */
  permutation(n: number): Uint32Array {
    const p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    this.shuffle(p);
    return p;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** SplitMix32 finaliser (a bijective 32-bit hash). */
export function mix32(z: number): number {
  let x = z >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * Seed of one epoch's shuffle: mix32(mix32(seed) + 0x9e3779b9 * (epochIndex + 1)), all mod 2^32.
 * Distinct epochs get unrelated streams; the same (seed, epoch) always gives the same permutation,
 * so a run resumed at epoch k shuffles exactly as the uninterrupted run did.
 */
export function deriveEpochSeed(seed: number, epochIndex: number): number {
  return mix32((mix32(Math.trunc(seed) >>> 0) + Math.imul(0x9e3779b9, (epochIndex + 1) >>> 0)) >>> 0);
}
