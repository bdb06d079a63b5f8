import { IMAGE_BYTES } from "./constants.js";
import { channelTables, normalizationTable, normalizeImageInto } from "./normalize.js";
import type { CifarSplit } from "./parse.js";
import { deriveEpochSeed, SeededRng } from "./rng.js";

export interface BatchLoaderOptions {
  batchSize: number;
  /** Shuffle each epoch (train) or keep file order (validation/test). */
  shuffle: boolean;
  /** Base seed of the per-epoch shuffles (default 0). */
  seed?: number;
  /** Drop the last partial batch (train) or keep it (validation/test). */
  dropLast: boolean;
  /** Per-channel mean/std on pixels/255 (default the CIFAR-10 constants). */
  mean?: readonly number[];
  std?: readonly number[];
}

export interface Batch {
  /** [size, 3072] normalised images, row-major. A view of a buffer reused by every batch of this loader. */
  x: Float32Array;
  /** [size] labels. Reused like `x`. */
  y: Int32Array;
  size: number;
}

/**
 * Normalised mini-batches of a split. Epoch e visits the images in order (shuffle false) or in the order
 * SeededRng(deriveEpochSeed(seed, e)).shuffle(identity) (shuffle true), so any epoch can be replayed alone.
 * The buffers (and the two batch objects, full and partial) are allocated once in the constructor: copy what
 * you need to keep before advancing the generator.
 */
export class BatchLoader {
  readonly batchSize: number;
  private readonly split: CifarSplit;
  private readonly shuffle: boolean;
  private readonly seed: number;
  private readonly dropLast: boolean;
  private readonly tables: [Float32Array, Float32Array, Float32Array];
  private readonly order: Uint32Array;
  private readonly full: Batch;
  private readonly partial: Batch | null;

  constructor(split: CifarSplit, options: BatchLoaderOptions) {
    const { batchSize } = options;
    if (!(Number.isInteger(batchSize) && batchSize >= 1)) {
      throw new RangeError(`BatchLoader: batchSize must be a positive integer, got ${batchSize}`);
    }
    if (split.images.length < split.count * IMAGE_BYTES || split.labels.length < split.count) {
      throw new RangeError(`BatchLoader: split holds fewer bytes than its count ${split.count} implies`);
    }
    this.split = split;
    this.batchSize = batchSize;
    this.shuffle = options.shuffle;
    this.seed = options.seed ?? 0;
    this.dropLast = options.dropLast;
    this.tables = channelTables(normalizationTable(options.mean, options.std));
    this.order = new Uint32Array(split.count);
    const x = new Float32Array(batchSize * IMAGE_BYTES);
    const y = new Int32Array(batchSize);
    this.full = { x, y, size: batchSize };
    const rest = split.count % batchSize;
    this.partial =
      rest > 0 && !this.dropLast
        ? { x: x.subarray(0, rest * IMAGE_BYTES), y: y.subarray(0, rest), size: rest }
        : null;
  }

  get batchesPerEpoch(): number {
    const whole = Math.floor(this.split.count / this.batchSize);
    return this.partial ? whole + 1 : whole;
  }

  /** The image order of epoch `epochIndex` (a copy). */
  epochOrder(epochIndex: number): Uint32Array {
    this.fillOrder(epochIndex);
    return this.order.slice();
  }

  *epoch(epochIndex: number): Generator<Batch, void, undefined> {
    this.fillOrder(epochIndex);
    const { images, labels } = this.split;
    const [red, green, blue] = this.tables;
    const count = this.batchesPerEpoch;
    const imageBytes = 3072; // literal, not the imported constant: hot loop
    for (let b = 0; b < count; b++) {
      const start = b * this.batchSize;
      const batch = start + this.batchSize <= this.split.count ? this.full : (this.partial as Batch);
      for (let i = 0; i < batch.size; i++) {
        const src = this.order[start + i];
        normalizeImageInto(batch.x, i * imageBytes, images, src * imageBytes, red, green, blue);
        batch.y[i] = labels[src];
      }
      yield batch;
    }
  }

  private fillOrder(epochIndex: number): void {
    if (!(Number.isInteger(epochIndex) && epochIndex >= 0)) {
      throw new RangeError(`BatchLoader.epoch: epochIndex must be a non-negative integer, got ${epochIndex}`);
    }
    for (let i = 0; i < this.order.length; i++) this.order[i] = i;
    if (this.shuffle) new SeededRng(deriveEpochSeed(this.seed, epochIndex)).shuffle(this.order);
  }
}
