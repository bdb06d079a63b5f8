import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Cifar10Manifest, ExpectedBatchFile } from "./constants.js";
import { RECORD_BYTES } from "./constants.js";
import { CifarDataError, describeError, formatCount } from "./errors.js";
import { hasCode } from "./fsutil.js";
import { sizeProblem } from "./parse.js";

export function sha1Hex(bytes: Uint8Array): string {
  return createHash("sha1").update(bytes).digest("hex");
}

/** Result of checking one expected file. */
export interface FileReport {
  name: string;
  path: string;
  ok: boolean;
  /** Size on disk, when the file could be read. */
  bytes?: number;
  /** SHA-1 of the content, when the size was right. */
  sha1?: string;
  expectedSha1: string;
  /** One-line problem (the same text the error would carry), when not ok. */
  problem?: string;
}

export interface VerifyReport {
  dir: string;
  ok: boolean;
  files: FileReport[];
  /** Folder-level problem (missing or unreadable folder), when there is one. */
  problem?: string;
  seconds: number;
}

/**
 * Read a batch file and check its size and SHA-1 against `expected`. Throws a CifarDataError naming the
 * file on any problem; returns the verified bytes otherwise.
 */
export async function readVerifiedFile(dir: string, expected: ExpectedBatchFile): Promise<Uint8Array> {
  const path = join(dir, expected.name);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if (hasCode(error, "ENOENT")) {
      throw new CifarDataError(
        path,
        `missing: expected ${expected.name} (${formatCount(expected.records * RECORD_BYTES)} bytes, SHA-1 ${expected.sha1})`,
      );
    }
    throw new CifarDataError(path, `unreadable: ${describeError(error)}`, { cause: error });
  }
  if (bytes.length !== expected.records * RECORD_BYTES) {
    throw new CifarDataError(path, sizeProblem(bytes.length, expected.records));
  }
  const sha1 = sha1Hex(bytes);
  if (sha1 !== expected.sha1) {
    throw new CifarDataError(path, `checksum mismatch: SHA-1 ${sha1}, expected ${expected.sha1}`);
  }
  return bytes;
}

/**
 * Check that `dir` is a readable folder. Throws a one-line CifarDataError naming the folder otherwise.
 * (Permission bits do not stop root, so the unreadable case is mostly "not a folder" or "does not exist".)
 */
export async function checkFolder(dir: string, manifest: Cifar10Manifest): Promise<void> {
  const want = `a ${manifest.archiveFolder} folder holding ${manifest.files.map((f) => f.name).join(", ")}`;
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) throw new CifarDataError(dir, `not a folder: expected ${want}`);
    await readdir(dir);
  } catch (error) {
    if (error instanceof CifarDataError) throw error;
    if (hasCode(error, "ENOENT")) throw new CifarDataError(dir, `folder does not exist: expected ${want}`);
    throw new CifarDataError(dir, `unreadable folder (${describeError(error)}): expected ${want}`, {
      cause: error,
    });
  }
}

/** Verify every expected file of `dir` without throwing; the report says what is wrong with each. */
export async function verifyFolder(
  dir: string,
  manifest: Cifar10Manifest,
  onFile?: (report: FileReport, index: number) => void,
): Promise<VerifyReport> {
  const started = performance.now();
  try {
    await checkFolder(dir, manifest);
  } catch (error) {
    return {
      dir,
      ok: false,
      files: manifest.files.map((f) => ({
        name: f.name,
        path: join(dir, f.name),
        ok: false,
        expectedSha1: f.sha1,
        problem: "folder unreadable",
      })),
      problem: describeError(error),
      seconds: (performance.now() - started) / 1000,
    };
  }
  const files: FileReport[] = [];
  for (const [index, expected] of manifest.files.entries()) {
    const path = join(dir, expected.name);
    let report: FileReport;
    try {
      const bytes = await readVerifiedFile(dir, expected);
      report = {
        name: expected.name,
        path,
        ok: true,
        bytes: bytes.length,
        sha1: expected.sha1,
        expectedSha1: expected.sha1,
      };
    } catch (error) {
      report = {
        name: expected.name,
        path,
        ok: false,
        expectedSha1: expected.sha1,
        problem: describeError(error),
      };
      const size = await stat(path).then(
        (s) => s.size,
        () => undefined,
      );
      if (size !== undefined) report.bytes = size;
    }
    files.push(report);
    onFile?.(report, index);
  }
  return { dir, ok: files.every((f) => f.ok), files, seconds: (performance.now() - started) / 1000 };
}
