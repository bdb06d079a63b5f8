import { Rng } from "@nabla/ndarray";
import { DataError, formatCount, isNonNegativeInt } from "./errors.js";
import { ArrayBatchStream, type ArrayRows } from "./stream.js";
import { type Dataset, type DatasetSplit, featureSize } from "./types.js";

/** One split held in memory: `labels.length` examples of featureSize values each, row-major. */
export interface ArraySplitInput {
  /** Features; bytes (0-255, e.g. pixels) are scaled by 1/255 before normalising. */
  x: Float32Array | Uint8Array;
  /** Class indices in [0, classNames.length). */
  labels: ArrayLike<number>;
}

/**
 * Per-channel normalisation, channels being featureShape[0] (e.g. 3 for [3, 32, 32], 1 for [1, 28, 28]):
 * value v of channel c becomes fround(fround(v · scale[c]) + bias[c]) with scale[c] = fround(1 / (range ·
 * std[c])), bias[c] = fround(-mean[c] / std[c]) and range 255 for bytes, 1 for floats: the float32 arithmetic
 * of @nabla/cifar's BatchLoader, so the same bytes and constants give the same bits.
 */
export interface Normalization {
  mean: readonly number[];
  std: readonly number[];
}

/** Hold `validationSize` examples of train out as the validation split, chosen by a seeded permutation. */
export interface Holdout {
  seed: number;
  validationSize: number;
}

export interface ArrayDatasetOptions {
  name: string;
  featureShape: readonly number[];
  classNames: readonly string[];
  train: ArraySplitInput;
  test: ArraySplitInput;
  /** A validation split of its own; or use `holdout` to take one from train (not both). */
  validation?: ArraySplitInput;
  holdout?: Holdout;
  /** Default: bytes become v / 255 (as fround(v · fround(1/255))), floats are used as they are. */
  normalize?: Normalization;
}

/**
 * A Dataset over arrays in memory, with splits "train", "test" and, when given or held out, "validation".
 * The hold-out is @nabla/cifar's splitTrainValidation: p = Rng(seed).permutation(N), validation = p[0 .. v)
 * and train = the rest, both in their original order (the split decides membership; shuffling is the
 * stream's job). Held-out splits index into the train arrays rather than copying them. The arrays are not
 * copied either: do not change them while the dataset is in use. `rawZero` is what a raw 0 of each channel
 * becomes (the padding value of augmentBatches).
 */
export function arrayDataset(options: ArrayDatasetOptions): Dataset {
  const where = "arrayDataset";
  const { name, classNames } = options;
  if (typeof name !== "string" || name === "") {
    throw new DataError(where, "name", `expected a non-empty string, got ${JSON.stringify(name)}`);
  }
  const featureShape = Object.freeze([...options.featureShape]);
  const f = featureSize(featureShape);
  if (classNames.length === 0) throw new DataError(where, "classNames", "expected at least one class name");
  const norm = coefficients(where, featureShape[0], options.normalize);
  const rows = (field: string, input: ArraySplitInput): ArrayRows =>
    makeRows(where, field, input, f, classNames.length, norm);

  const splits: Record<string, DatasetSplit> = {};
  if (options.holdout !== undefined) {
    if (options.validation !== undefined) {
      throw new DataError(where, "holdout", "expected either validation or holdout, got both");
    }
    const all = rows("train", options.train);
    const { train, validation } = holdoutRows(where, all.size, options.holdout);
    splits.train = arraySplit({ ...all, rows: train, size: train.length });
    splits.validation = arraySplit({ ...all, rows: validation, size: validation.length });
  } else {
    splits.train = arraySplit(rows("train", options.train));
    if (options.validation !== undefined)
      splits.validation = arraySplit(rows("validation", options.validation));
  }
  splits.test = arraySplit(rows("test", options.test));
  return Object.freeze({
    name,
    featureShape,
    classNames: Object.freeze([...classNames]),
    splits: Object.freeze(splits),
    // fround(fround(0 · scale) + bias) for bytes and floats alike; `0 +` turns the bias −0 of mean 0 into the +0
    // a raw 0 becomes.
    rawZero: Object.freeze(Array.from(norm.bias, (b) => Math.fround(0 + b))),
  });
}

function arraySplit(rows: ArrayRows): DatasetSplit {
  return Object.freeze({ size: rows.size, batches: (o) => new ArrayBatchStream(rows, o) } as DatasetSplit);
}

function holdoutRows(
  where: string,
  n: number,
  holdout: Holdout,
): { train: Uint32Array; validation: Uint32Array } {
  const { seed, validationSize } = holdout;
  if (!(isNonNegativeInt(seed) && seed <= 0xffff_ffff)) {
    throw new DataError(where, "holdout.seed", `expected an integer in [0, 4294967295], got ${seed}`);
  }
  if (!(isNonNegativeInt(validationSize) && validationSize <= n)) {
    throw new DataError(
      where,
      "holdout.validationSize",
      `expected an integer in [0, ${n}] (the training examples), got ${validationSize}`,
    );
  }
  const permutation = new Rng(seed).permutation(n);
  return {
    validation: permutation.slice(0, validationSize).sort(),
    train: permutation.slice(validationSize).sort(),
  };
}

interface Coefficients {
  channels: number;
  std: readonly number[];
  bias: Float64Array;
  given: boolean;
}

function coefficients(where: string, channels: number, normalize: Normalization | undefined): Coefficients {
  const mean = normalize?.mean ?? new Array<number>(channels).fill(0);
  const std = normalize?.std ?? new Array<number>(channels).fill(1);
  for (const [field, list] of [
    ["normalize.mean", mean],
    ["normalize.std", std],
  ] as const) {
    if (list.length !== channels) {
      throw new DataError(
        where,
        field,
        `expected ${channels} values (one per channel, featureShape[0]), got ${list.length}`,
      );
    }
  }
  const bias = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    bias[c] = Math.fround(-mean[c] / std[c]);
    // 1 / std is the larger of the two scales (floats; bytes divide by 255 too), so finite here is finite for both.
    if (!(std[c] > 0 && Number.isFinite(Math.fround(1 / std[c])) && Number.isFinite(bias[c]))) {
      throw new DataError(
        where,
        `normalize (channel ${c})`,
        `expected std > 0 and finite coefficients, got mean ${mean[c]}, std ${std[c]}`,
      );
    }
  }
  return { channels, std: [...std], bias, given: normalize !== undefined };
}

function makeRows(
  where: string,
  field: string,
  input: ArraySplitInput,
  f: number,
  classes: number,
  norm: Coefficients,
): ArrayRows {
  const { x, labels: given } = input;
  if (!(x instanceof Float32Array || x instanceof Uint8Array)) {
    throw new DataError(where, `${field}.x`, "expected a Float32Array or a Uint8Array");
  }
  const size = given.length;
  if (x.length !== size * f) {
    throw new DataError(
      where,
      `${field}.x`,
      `expected ${formatCount(size)} × ${formatCount(f)} = ${formatCount(size * f)} values (labels × featureSize), got ${formatCount(x.length)}`,
    );
  }
  const labels = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    const label = given[i];
    if (!(Number.isInteger(label) && label >= 0 && label < classes)) {
      throw new DataError(
        where,
        `${field}.labels[${i}]`,
        `expected a class index in [0, ${classes - 1}], got ${label}`,
      );
    }
    labels[i] = label;
  }
  const bytes = x instanceof Uint8Array;
  const range = bytes ? 255 : 1;
  // The expression of @nabla/cifar's normalizationConstants, so equal constants give equal bits.
  const scale = Float64Array.from(norm.std, (s) => Math.fround(1 / (range * s)));
  let lut: Float32Array | null = null;
  if (bytes) {
    lut = new Float32Array(norm.channels * 256);
    for (let c = 0; c < norm.channels; c++) {
      for (let v = 0; v < 256; v++) lut[c * 256 + v] = Math.fround(Math.fround(v * scale[c]) + norm.bias[c]);
    }
  }
  return {
    x,
    labels,
    rows: null,
    size,
    featureSize: f,
    channels: norm.channels,
    scale,
    bias: norm.bias,
    lut,
    identity: !bytes && !norm.given,
  };
}
