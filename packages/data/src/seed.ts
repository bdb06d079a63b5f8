/**
 * Seeding of the per-epoch shuffles. The generator itself is @nabla/ndarray's `Rng` (xoshiro128** seeded by
 * SplitMix32; integers below a bound by rejection, so shuffles are unbiased). Every source's batches use this,
 * so a dataset that moves to another source keeps its epoch orders.
 */

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

/** Salt that separates the augmentation streams from the shuffles of the same run seed ("aug1" in ASCII). */
const AUGMENT_SALT = 0x61756731;

/**
 * Seed of one epoch's augmentation draws: deriveEpochSeed(seed ^ 0x61756731, epochIndex). A stream of its own,
 * unrelated to the epoch's shuffle (deriveEpochSeed(seed, epochIndex)), so adding augmentation does not change
 * the batches' order, and a function of (seed, epoch) alone, so epoch k can be replayed on its own.
 */
export function deriveAugmentSeed(seed: number, epochIndex: number): number {
  return deriveEpochSeed((Math.trunc(seed) ^ AUGMENT_SALT) >>> 0, epochIndex);
}
