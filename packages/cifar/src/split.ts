import { HOLDOUT_DEFAULTS } from "@nabla/data";
import { Rng } from "@nabla/ndarray";
import { type CifarSplit, selectImages } from "./parse.js";

export interface SplitOptions {
  /** Seed of the split's own permutation, independent of any run seed (default HOLDOUT_DEFAULTS.splitSeed, 42). */
  seed?: number;
  /** Images moved to validation (default HOLDOUT_DEFAULTS.validationSize, 5,000). */
  validationSize?: number;
}

/**
 * Split the official training set into train + validation by a seeded permutation: p = Rng(seed)
 * .permutation(N); validation = images p[0 .. v), train = the rest. Both keep the original file order
 * (indices sorted ascending), so the split only decides membership; shuffling is the loader's job.
 */
export function splitTrainValidation(
  train: CifarSplit,
  options: SplitOptions = {},
): { train: CifarSplit; validation: CifarSplit } {
  const seed = options.seed ?? HOLDOUT_DEFAULTS.splitSeed;
  const validationSize = options.validationSize ?? HOLDOUT_DEFAULTS.validationSize;
  if (!(Number.isInteger(validationSize) && validationSize >= 0 && validationSize <= train.count)) {
    throw new RangeError(
      `splitTrainValidation: validationSize must be an integer in [0, ${train.count}], got ${validationSize}`,
    );
  }
  const permutation = new Rng(seed).permutation(train.count);
  const validationIdx = permutation.slice(0, validationSize).sort();
  const trainIdx = permutation.slice(validationSize).sort();
  return { train: selectImages(train, trainIdx), validation: selectImages(train, validationIdx) };
}
