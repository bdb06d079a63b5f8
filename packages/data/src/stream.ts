import { Rng } from "@nabla/ndarray";
import { DataError, isNonNegativeInt, isPositiveInt } from "./errors.js";
import { deriveEpochSeed } from "./seed.js";
import type { Batch, BatchOptions, BatchStream } from "./types.js";

/**
 * Rows of an in-memory split: `x` holds whole examples of `featureSize` values, `rows` (when not null) picks
 * which of them belong to the split, in order, so a train/validation hold-out shares the arrays instead of
 * copying them.
 */
export interface ArrayRows {
  readonly x: Float32Array | Uint8Array;
  readonly labels: Int32Array;
  readonly rows: Uint32Array | null;
  readonly size: number;
  readonly featureSize: number;
  /** Channels of the per-channel normalisation: featureShape[0]; each holds featureSize / channels values. */
  readonly channels: number;
  /** Per channel fround(1 / (range · std)) and fround(-mean / std); range is 255 for bytes, 1 for floats. */
  readonly scale: Float64Array;
  readonly bias: Float64Array;
  /** For bytes: lut[c * 256 + v], the normalised value of byte v in channel c. Null for float input. */
  readonly lut: Float32Array | null;
  /** Float input without normalisation: rows are copied as they are. */
  readonly identity: boolean;
}

export function checkBatchOptions(where: string, options: BatchOptions): void {
  if (!isPositiveInt(options.batchSize)) {
    throw new DataError(where, "batchSize", `expected a positive integer, got ${options.batchSize}`);
  }
  const seed = options.seed;
  if (seed !== undefined && !(isNonNegativeInt(seed) && seed <= 0xffff_ffff)) {
    throw new DataError(where, "seed", `expected an integer in [0, 4294967295], got ${seed}`);
  }
}

/**
 * Batches of an ArrayRows split. Epoch e visits the rows in order (shuffle false) or in the order
 * Rng(deriveEpochSeed(seed, e)).shuffle(identity) (shuffle true): the same orders as @nabla/cifar's BatchLoader.
 * The buffers and the two batch objects (full and partial) are allocated once: each batch is a reused view.
 */
export class ArrayBatchStream implements BatchStream {
  readonly batchSize: number;
  readonly batchesPerEpoch: number;
  private readonly split: ArrayRows;
  private readonly shuffle: boolean;
  private readonly seed: number;
  private readonly order: Uint32Array;
  private readonly full: Batch;
  private readonly partial: Batch | null;

  constructor(split: ArrayRows, options: BatchOptions) {
    checkBatchOptions("DatasetSplit.batches", options);
    const { batchSize } = options;
    this.split = split;
    this.batchSize = batchSize;
    this.shuffle = options.shuffle;
    this.seed = options.seed ?? 0;
    this.order = new Uint32Array(split.size);
    const f = split.featureSize;
    const x = new Float32Array(batchSize * f);
    const y = new Int32Array(batchSize);
    this.full = { x, y, size: batchSize };
    const rest = split.size % batchSize;
    this.partial =
      rest > 0 && !options.dropLast
        ? { x: x.subarray(0, rest * f), y: y.subarray(0, rest), size: rest }
        : null;
    const whole = Math.floor(split.size / batchSize);
    this.batchesPerEpoch = this.partial ? whole + 1 : whole;
  }

  /** The example order of epoch `index` (positions in the split; a new array, a running epoch is undisturbed). */
  epochOrder(index: number): Uint32Array {
    const order = new Uint32Array(this.split.size);
    this.fillOrder(order, index);
    return order;
  }

  *epoch(index: number): Generator<Batch, void, undefined> {
    this.fillOrder(this.order, index);
    for (let b = 0; b < this.batchesPerEpoch; b++) {
      const start = b * this.batchSize;
      const batch = start + this.batchSize <= this.split.size ? this.full : (this.partial as Batch);
      fillBatch(this.split, this.order, start, batch);
      yield batch;
    }
  }

  private fillOrder(order: Uint32Array, index: number): void {
    if (!isNonNegativeInt(index)) {
      throw new DataError("BatchStream.epoch", "index", `expected a non-negative integer, got ${index}`);
    }
    for (let i = 0; i < order.length; i++) order[i] = i;
    if (this.shuffle) new Rng(deriveEpochSeed(this.seed, index)).shuffle(order);
  }
}

/** Normalise the examples order[start .. start + size) of the split into the batch buffers. */
function fillBatch(split: ArrayRows, order: Uint32Array, start: number, batch: Batch): void {
  const { x, y, size } = batch;
  const { featureSize: f, rows, labels } = split;
  const plane = f / split.channels;
  for (let i = 0; i < size; i++) {
    const p = order[start + i];
    const r = rows === null ? p : rows[p];
    const src = r * f;
    const dst = i * f;
    y[i] = labels[r];
    if (split.identity) {
      x.set((split.x as Float32Array).subarray(src, src + f), dst);
    } else if (split.lut !== null) {
      const lut = split.lut;
      const bytes = split.x as Uint8Array;
      for (let c = 0; c < split.channels; c++) {
        const base = c * 256;
        const o = c * plane;
        for (let k = 0; k < plane; k++) x[dst + o + k] = lut[base + bytes[src + o + k]];
      }
    } else {
      const floats = split.x as Float32Array;
      for (let c = 0; c < split.channels; c++) {
        const scale = split.scale[c];
        const bias = split.bias[c];
        const o = c * plane;
        for (let k = 0; k < plane; k++) {
          x[dst + o + k] = Math.fround(Math.fround(floats[src + o + k] * scale) + bias);
        }
      }
    }
  }
}
