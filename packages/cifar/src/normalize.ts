import { CIFAR10_MEAN, CIFAR10_STD, IMAGE_BYTES } from "./constants.js";

/**
 * The normalised value of byte v in channel c is defined in float32 arithmetic, rounded twice:
 *
 *   y = fround(fround(v * scale[c]) + bias[c]),  scale[c] = fround(1 / (255 * std[c])),  bias[c] = fround(-mean[c] / std[c])
 *
 * i.e. one float32 multiply and one float32 add per value. That is what WebAssembly SIMD computes four lanes at
 * a time (f32x4.mul, f32x4.add: IEEE round-to-nearest, deterministic), and JavaScript reproduces it bit for bit:
 * a product of two float32 values is exact in float64, and a float64 sum of two float32 values rounded to
 * float32 equals the float32 sum (53 >= 2 * 24 + 2, so the double rounding is innocuous). Every path of the
 * BatchLoader (SIMD, scalar WASM, JavaScript tables) gives these bits. The value differs from the exact
 * (v / 255 - mean) / std by at most ~4e-7 for the CIFAR-10 constants (the rounding of bias, about 2 at most, and
 * of the two operations); tested within 1e-6 · max(1, |exact|).
 */
export interface NormalizationConstants {
  /** fround(1 / (255 * std[c])) per channel. */
  readonly scale: readonly [number, number, number];
  /** fround(-mean[c] / std[c]) per channel. */
  readonly bias: readonly [number, number, number];
}

export function normalizationConstants(
  mean: readonly number[] = CIFAR10_MEAN,
  std: readonly number[] = CIFAR10_STD,
): NormalizationConstants {
  if (mean.length !== 3 || std.length !== 3) {
    throw new RangeError(`normalisation needs 3 means and 3 stds, got ${mean.length} and ${std.length}`);
  }
  const scale: [number, number, number] = [0, 0, 0];
  const bias: [number, number, number] = [0, 0, 0];
  for (let c = 0; c < 3; c++) {
    scale[c] = Math.fround(1 / (255 * std[c]));
    bias[c] = Math.fround(-mean[c] / std[c]);
    if (!(std[c] > 0 && Number.isFinite(scale[c]) && Number.isFinite(bias[c]))) {
      throw new RangeError(
        `normalisation channel ${c}: mean ${mean[c]} and std ${std[c]} must give finite float32 coefficients (std > 0)`,
      );
    }
  }
  return { scale, bias };
}

/** The normalised value of byte `v` (0-255): fround(fround(v * scale) + bias), see NormalizationConstants. */
export function normalizeValue(v: number, scale: number, bias: number): number {
  return Math.fround(Math.fround(v * scale) + bias);
}

/**
 * Lookup table of the normalised value of every byte, per channel: lut[c * 256 + v] = normalizeValue(v, scale[c],
 * bias[c]), the same bits the SIMD kernel computes. A table lookup per pixel is the fastest JavaScript loop.
 */
export function normalizationTable(
  mean: readonly number[] = CIFAR10_MEAN,
  std: readonly number[] = CIFAR10_STD,
): Float32Array {
  const { scale, bias } = normalizationConstants(mean, std);
  const lut = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = normalizeValue(v, scale[c], bias[c]);
  }
  return lut;
}

const DEFAULT_TABLE = normalizationTable();

/** The per-channel thirds of a 768-entry table (views, no copy). */
export function channelTables(table: Float32Array): [Float32Array, Float32Array, Float32Array] {
  if (table.length !== 768)
    throw new RangeError(`normalisation table must have 768 entries, got ${table.length}`);
  return [table.subarray(0, 256), table.subarray(256, 512), table.subarray(512, 768)];
}

/**
 * Normalise one image (3072 bytes, channel-major) from `src[srcOffset..]` into `out[outOffset..]`.
 * The three channels are walked together with one table each, and the sizes are literals rather than
 * imported constants: both measurably faster in V8 (~1.4 ns per value, see bench/).
 */
export function normalizeImageInto(
  out: Float32Array,
  outOffset: number,
  src: Uint8Array,
  srcOffset: number,
  red: Float32Array,
  green: Float32Array,
  blue: Float32Array,
): void {
  for (let p = 0; p < 1024; p++) {
    out[outOffset + p] = red[src[srcOffset + p]];
    out[outOffset + 1024 + p] = green[src[srcOffset + 1024 + p]];
    out[outOffset + 2048 + p] = blue[src[srcOffset + 2048 + p]];
  }
}

/**
 * Normalise a whole set of images ([N, 3072] bytes) to float32: 4 bytes per value, so ~553 MB for the
 * 45,000 training images. Only for callers that ask; the BatchLoader normalises per batch instead.
 */
export function normalizeImages(
  images: Uint8Array,
  out?: Float32Array,
  table: Float32Array = DEFAULT_TABLE,
): Float32Array {
  if (images.length % IMAGE_BYTES !== 0) {
    throw new RangeError(
      `normalizeImages: ${images.length} bytes is not a whole number of ${IMAGE_BYTES}-byte images`,
    );
  }
  const result = out ?? new Float32Array(images.length);
  if (result.length !== images.length) {
    throw new RangeError(`normalizeImages: out has ${result.length} values, expected ${images.length}`);
  }
  const [red, green, blue] = channelTables(table);
  for (let at = 0; at < images.length; at += IMAGE_BYTES)
    normalizeImageInto(result, at, images, at, red, green, blue);
  return result;
}
