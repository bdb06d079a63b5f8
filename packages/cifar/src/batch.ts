import { type BatchOptions, type BatchStream, deriveEpochSeed } from "@nabla/data";
import { Rng } from "@nabla/ndarray";
import { IMAGE_BYTES } from "./constants.js";
import { channelTables, normalizationConstants, normalizationTable } from "./normalize.js";
import type { CifarSplit } from "./parse.js";
import type { WasmKernel } from "./wasm-kernels.js";
import { WasmNormalizer, type WasmNormalizerOptions } from "./wasm-normalize.js";

/**
 * How a loader normalises. "auto" picks the first that can serve it: "simd" (WASM SIMD on a copy of the split
 * in WASM memory), "simd-staged" (each batch's rows copied into WASM memory per batch: for splits too big to
 * copy), the scalar WASM table kernel ("wasm", "wasm-staged": engines without SIMD), JavaScript 32-bit words,
 * JavaScript bytes.
 */
export type BatchKernel = "auto" | "simd" | "simd-staged" | "wasm" | "wasm-staged" | "words" | "bytes";
let kernelChoice: BatchKernel = "auto";

/**
 * Caps the kernel of loaders constructed from now on (for tests and benchmarks comparing the paths; not part
 * of the package's public API). Every kernel writes the same values.
 */
export function setBatchKernel(kernel: BatchKernel): void {
  kernelChoice = kernel;
}

/** @nabla/data's BatchOptions (batchSize, shuffle, seed = 0, dropLast) plus the normalisation constants. */
export interface BatchLoaderOptions extends BatchOptions {
  /** Per-channel mean/std on pixels/255 (default the CIFAR-10 constants); see normalizationConstants. */
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
 * Rng(deriveEpochSeed(seed, e)).shuffle(identity) (shuffle true), so any epoch can be replayed alone.
 * The buffers (and the two batch objects, full and partial) are allocated once in the constructor: copy what
 * you need to keep before advancing the generator. With WebAssembly the constructor also copies the split's
 * images into the loader's WASM memory (138 MB for 45,000 images): do not change split.images afterwards.
 */
export class BatchLoader implements BatchStream {
  readonly batchSize: number;
  private readonly split: CifarSplit;
  private readonly shuffle: boolean;
  private readonly seed: number;
  private readonly dropLast: boolean;
  private readonly tables: [Float32Array, Float32Array, Float32Array];
  private readonly order: Uint32Array;
  /** The images as little-endian 32-bit words (4 pixels each), or null when they cannot be viewed so. */
  private readonly words: Uint32Array | null;
  private readonly wasm: WasmNormalizer | null;
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
    const constants = normalizationConstants(options.mean, options.std);
    const table = normalizationTable(options.mean, options.std);
    this.tables = channelTables(table);
    this.wasm = createWasm(split, { constants, table, capacity: batchSize });
    this.order = this.wasm?.epochOrder ?? new Uint32Array(split.count);
    this.words = this.wasm === null && kernelChoice !== "bytes" ? wordView(split.images) : null;
    const x = this.wasm?.output ?? new Float32Array(batchSize * IMAGE_BYTES);
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

  /** The image order of epoch `epochIndex` (a new array; does not disturb a running epoch). */
  epochOrder(epochIndex: number): Uint32Array {
    const order = new Uint32Array(this.split.count);
    this.fillOrder(order, epochIndex);
    return order;
  }

  *epoch(epochIndex: number): Generator<Batch, void, undefined> {
    this.fillOrder(this.order, epochIndex);
    const count = this.batchesPerEpoch;
    for (let b = 0; b < count; b++) {
      const start = b * this.batchSize;
      const batch = start + this.batchSize <= this.split.count ? this.full : (this.partial as Batch);
      this.fillBatch(batch, start);
      yield batch;
    }
  }

  /**
   * Normalise images order[start .. start + size) into the batch buffers. A plain method rather than code in
   * the generator body, and literal sizes rather than imported constants: V8 optimises this ~1.5x better.
   * Reading the pixels four at a time as 32-bit words, one channel plane per call, is another ~2.7x faster
   * (0.75 -> 0.28 ms per batch of 128) than one byte load per pixel; the WASM kernels (wasm-kernels.ts) are
   * faster still. The byte loop remains for images that are not 4-byte aligned (or a big-endian machine) when
   * WebAssembly is unavailable. All of them write the same values (normalizeValue).
   */
  private fillBatch(batch: Batch, start: number): void {
    const { x, y, size } = batch;
    const { images, labels } = this.split;
    const red = this.tables[0];
    const green = this.tables[1];
    const blue = this.tables[2];
    const order = this.order;
    const wasm = this.wasm;
    if (wasm !== null) {
      wasm.fill(order, start, size);
      for (let i = 0; i < size; i++) y[i] = labels[order[start + i]];
      return;
    }
    const words = this.words;
    for (let i = 0; i < size; i++) {
      const index = order[start + i];
      const o = i * 3072;
      if (words !== null) {
        const w = index * 768;
        planeFromWords(x, o, words, w, red);
        planeFromWords(x, o + 1024, words, w + 256, green);
        planeFromWords(x, o + 2048, words, w + 512, blue);
      } else {
        const s = index * 3072;
        for (let p = 0; p < 1024; p++) {
          x[o + p] = red[images[s + p]];
          x[o + 1024 + p] = green[images[s + 1024 + p]];
          x[o + 2048 + p] = blue[images[s + 2048 + p]];
        }
      }
      y[i] = labels[index];
    }
  }

  private fillOrder(order: Uint32Array, epochIndex: number): void {
    if (!(Number.isInteger(epochIndex) && epochIndex >= 0)) {
      throw new RangeError(`BatchLoader.epoch: epochIndex must be a non-negative integer, got ${epochIndex}`);
    }
    for (let i = 0; i < order.length; i++) order[i] = i;
    if (this.shuffle) new Rng(deriveEpochSeed(this.seed, epochIndex)).shuffle(order);
  }
}

/** The WASM normaliser kernelChoice allows: SIMD before scalar; resident unless staged is asked or it won't fit. */
function createWasm(
  split: CifarSplit,
  options: Omit<WasmNormalizerOptions, "kernel" | "resident">,
): WasmNormalizer | null {
  const choice = kernelChoice;
  if (choice === "words" || choice === "bytes") return null;
  const resident = !choice.endsWith("-staged");
  const kernels: WasmKernel[] =
    choice === "auto" ? ["simd", "scalar"] : [choice.startsWith("simd") ? "simd" : "scalar"];
  for (const kernel of kernels) {
    const wasm = WasmNormalizer.create(split.images, split.count, { ...options, kernel, resident });
    if (wasm !== null) return wasm;
  }
  return null;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** A Uint32Array over the same bytes when they start 4-byte aligned on a little-endian machine, else null. */
function wordView(images: Uint8Array): Uint32Array | null {
  if (!LITTLE_ENDIAN || images.byteOffset % 4 !== 0) return null;
  return new Uint32Array(images.buffer, images.byteOffset, images.length >>> 2);
}

/** One 1024-pixel plane: words[w .. w + 256) hold its bytes, lowest byte first (little-endian). */
function planeFromWords(
  x: Float32Array,
  o: number,
  words: Uint32Array,
  w: number,
  table: Float32Array,
): void {
  for (let p = 0; p < 256; p++) {
    const v = words[w + p];
    const q = o + 4 * p;
    x[q] = table[v & 255];
    x[q + 1] = table[(v >>> 8) & 255];
    x[q + 2] = table[(v >>> 16) & 255];
    x[q + 3] = table[v >>> 24];
  }
}
