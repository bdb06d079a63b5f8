import { join } from "node:path";
import { type Cifar10Options, fetchCifar10 } from "./acquire.js";
import { CIFAR10_CLASS_NAMES, OFFICIAL_MANIFEST } from "./constants.js";
import { type Cifar10Data, type CifarSplit, concatSplits, parseCifarBatch } from "./parse.js";
import { readVerifiedFile } from "./verify.js";

/**
 * Acquire (see fetchCifar10), then read and parse the verified files: train = data_batch_1..5 in order
 * (50,000 images), test = test_batch (10,000). Each file's SHA-1 is checked again as it is read, so a file
 * changed after the fetch is never used.
 */
export async function loadCifar10(options: Cifar10Options = {}): Promise<Cifar10Data> {
  const manifest = options.manifest ?? OFFICIAL_MANIFEST;
  const report = await fetchCifar10(options);
  const parts: Record<"train" | "test", CifarSplit[]> = { train: [], test: [] };
  for (const file of manifest.files) {
    const bytes = await readVerifiedFile(report.dir, file);
    parts[file.split].push(parseCifarBatch(bytes, join(report.dir, file.name), file.records));
  }
  return {
    train: concatSplits(parts.train),
    test: concatSplits(parts.test),
    classNames: [...CIFAR10_CLASS_NAMES],
  };
}
