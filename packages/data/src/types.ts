import { DataError, isPositiveInt } from "./errors.js";

/** One mini-batch: rows of `featureSize` values each, and their class indices. */
export interface Batch {
  /**
   * [size, featureSize] features, row-major. May be a view of a buffer the stream reuses for every batch:
   * copy what you need to keep before asking for the next batch.
   */
  x: Float32Array;
  /** [size] class indices in [0, classNames.length). Reused like `x`. */
  y: Int32Array;
  size: number;
}

export interface BatchOptions {
  batchSize: number;
  /** Shuffle each epoch (train) or keep the split's order (validation/test). */
  shuffle: boolean;
  /** Base seed of the per-epoch shuffles (default 0); epoch e uses deriveEpochSeed(seed, e). */
  seed?: number;
  /** Drop the last partial batch (train) or keep it (validation/test). */
  dropLast: boolean;
}

/**
 * The mini-batches of one split under fixed options. Epoch i can be replayed on its own: its order depends only
 * on (seed, i), so a run resumed at epoch k sees exactly the batches the uninterrupted run saw.
 */
export interface BatchStream {
  readonly batchSize: number;
  readonly batchesPerEpoch: number;
  epoch(index: number): Iterable<Batch>;
}

export interface DatasetSplit {
  /** Number of examples. */
  readonly size: number;
  batches(options: BatchOptions): BatchStream;
}

/**
 * A loaded dataset. The runner uses the splits "train", "validation" and "test"; a source may offer others.
 * Every example is `featureSize(featureShape)` float32 values once batched, and its label indexes classNames.
 */
export interface Dataset {
  readonly name: string;
  /** Shape of one example, e.g. [3, 32, 32] (channels first) or [1, 28, 28]. */
  readonly featureShape: readonly number[];
  readonly classNames: readonly string[];
  readonly splits: Readonly<Record<string, DatasetSplit>>;
  /**
   * Per channel (featureShape[0]), the value a raw 0 (a black pixel) takes once batched, e.g. fround(−mean/std)
   * after normalisation. augmentBatches pads with it, as PyTorch's RandomCrop pads the raw image with 0 before
   * Normalize. Optional: a source that does not declare it cannot be augmented with padding.
   */
  readonly rawZero?: readonly number[];
}

/**
 * What a source knows from its config alone, without reading any data: enough to check a spec (batch size
 * against the train split, the model's input and output widths, memory) before a long download or parse.
 */
export interface DatasetInfo {
  featureShape: readonly number[];
  classNames: readonly string[];
  /** Examples per split, e.g. { train: 45000, validation: 5000, test: 10000 }. */
  splitSizes: Readonly<Record<string, number>>;
}

/** Values per example: the product of the shape, e.g. [3, 32, 32] -> 3072. */
export function featureSize(shape: readonly number[]): number {
  if (shape.length === 0 || !shape.every(isPositiveInt)) {
    throw new DataError(
      "featureSize",
      "featureShape",
      `expected a non-empty list of positive integers, got [${shape.join(", ")}]`,
    );
  }
  return shape.reduce((n, d) => n * d, 1);
}
