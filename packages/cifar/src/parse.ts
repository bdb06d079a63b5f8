import { CLASS_COUNT, IMAGE_BYTES, RECORD_BYTES } from "./constants.js";
import { CifarDataError, formatCount } from "./errors.js";

/** N images of 3072 bytes each in channel, row, column order (R plane, G plane, B plane; rows of 32). */
export interface CifarSplit {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export interface Cifar10Data {
  train: CifarSplit;
  test: CifarSplit;
  classNames: string[];
}

/**
 * Parse a `cifar-10-batches-bin` file: records of 1 label byte + 3072 image bytes. `file` names the source
 * in errors. When `expectedRecords` is given the length must match exactly; otherwise any whole number of
 * records is accepted. Labels above 9 are rejected.
 */
export function parseCifarBatch(bytes: Uint8Array, file: string, expectedRecords?: number): CifarSplit {
  if (expectedRecords !== undefined && bytes.length !== expectedRecords * RECORD_BYTES) {
    throw new CifarDataError(file, sizeProblem(bytes.length, expectedRecords));
  }
  if (bytes.length % RECORD_BYTES !== 0 || bytes.length === 0) {
    throw new CifarDataError(
      file,
      `${formatCount(bytes.length)} bytes is not a whole, non-zero number of ${formatCount(RECORD_BYTES)}-byte records`,
    );
  }
  const count = bytes.length / RECORD_BYTES;
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const offset = i * RECORD_BYTES;
    const label = bytes[offset];
    if (label >= CLASS_COUNT) {
      throw new CifarDataError(
        file,
        `record ${i} (byte offset ${offset}) has label byte ${label}, expected 0-${CLASS_COUNT - 1}`,
      );
    }
    labels[i] = label;
    images.set(bytes.subarray(offset + 1, offset + RECORD_BYTES), i * IMAGE_BYTES);
  }
  return { images, labels, count };
}

/** The message for a batch file of the wrong length. */
export function sizeProblem(actualBytes: number, expectedRecords: number): string {
  const expected = expectedRecords * RECORD_BYTES;
  const kind = actualBytes < expected ? "truncated" : "too long";
  return `${kind}: ${formatCount(actualBytes)} bytes, expected ${formatCount(expected)} (${formatCount(expectedRecords)} records of ${formatCount(RECORD_BYTES)} bytes)`;
}

/** Concatenate splits in order (the five training batches into one 50,000-image split). */
export function concatSplits(parts: readonly CifarSplit[]): CifarSplit {
  const count = parts.reduce((n, p) => n + p.count, 0);
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Uint8Array(count);
  let at = 0;
  for (const part of parts) {
    images.set(part.images.subarray(0, part.count * IMAGE_BYTES), at * IMAGE_BYTES);
    labels.set(part.labels.subarray(0, part.count), at);
    at += part.count;
  }
  return { images, labels, count };
}

/** A new split holding the given images, in the given order. */
export function selectImages(split: CifarSplit, indices: ArrayLike<number>): CifarSplit {
  const count = indices.length;
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const src = indices[i];
    if (!(src >= 0 && src < split.count))
      throw new RangeError(`selectImages: index ${src} outside [0, ${split.count})`);
    images.set(split.images.subarray(src * IMAGE_BYTES, (src + 1) * IMAGE_BYTES), i * IMAGE_BYTES);
    labels[i] = split.labels[src];
  }
  return { images, labels, count };
}
