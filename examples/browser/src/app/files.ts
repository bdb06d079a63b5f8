/**
 * The picked files: which are training batches and which the test batch, and the size check that gives a
 * clear message at once (the full parse, with its label check, runs in the worker).
 */
import { CifarDataError, type CifarSplit, parseCifarBatch, RECORD_BYTES } from "@nabla/cifar/portable";

export interface PickedFile {
  name: string;
  size: number;
}

/** test_batch.bin (any test_batch*.bin) is the test split; every other file is training data. */
export function isTestFile(name: string): boolean {
  return /^test_batch.*\.bin$/i.test(name);
}

/** One line naming the first file whose size is not a whole, non-zero number of records, or null. */
export function pickedFilesProblem(files: readonly PickedFile[]): string | null {
  if (files.length === 0) return "no file picked: choose data_batch_*.bin (and test_batch.bin) files";
  for (const { name, size } of files) {
    if (size === 0 || size % RECORD_BYTES !== 0) {
      const count = (n: number, unit: string) => `${n.toLocaleString("en-US")} ${unit}${n === 1 ? "" : "s"}`;
      const problem =
        `${count(size, "byte")} is not a whole, non-zero number of CIFAR-10 records ` +
        `(1 label byte + 3,072 pixel bytes = 3,073 bytes each; ${count(Math.floor(size / RECORD_BYTES), "record")} ` +
        `and ${count(size % RECORD_BYTES, "byte")} over)`;
      return new CifarDataError(name, problem).message;
    }
  }
  if (files.every((f) => isTestFile(f.name))) {
    return "only test_batch.bin picked: add at least one training file (data_batch_*.bin)";
  }
  return null;
}

function concat(parts: CifarSplit[]): CifarSplit {
  const count = parts.reduce((n, p) => n + p.count, 0);
  const images = new Uint8Array(count * (RECORD_BYTES - 1));
  const labels = new Uint8Array(count);
  let at = 0;
  for (const part of parts) {
    images.set(part.images, at * (RECORD_BYTES - 1));
    labels.set(part.labels, at);
    at += part.count;
  }
  return { images, labels, count };
}

/** Parses the files (in the order picked) into one training split and, if a test file was picked, a test split. */
export function parsePickedFiles(files: { name: string; bytes: ArrayBuffer }[]): {
  train: CifarSplit;
  test: CifarSplit | null;
} {
  const train: CifarSplit[] = [];
  const test: CifarSplit[] = [];
  for (const file of files) {
    const split = parseCifarBatch(new Uint8Array(file.bytes), file.name);
    (isTestFile(file.name) ? test : train).push(split);
  }
  return { train: concat(train), test: test.length > 0 ? concat(test) : null };
}
