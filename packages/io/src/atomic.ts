import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { removeStaleTemps } from "./stale.js";

/**
 * Name of a temporary sibling of `target`: in the same folder (so the rename is atomic), unique, and
 * recognisable by {@link parseTempName} — `.<target name>.<pid>.<random hex>.tmp`.
 */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
}

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === "string" ? Buffer.from(data, "utf8") : data;
}

/** Node refuses a single write of more than 2^31 - 1 bytes (ERR_OUT_OF_RANGE); larger files go in pieces. */
export const WRITE_CHUNK_BYTES = 1 << 30;

/** Writes all of `bytes` at the file's position, in pieces of at most `chunk` bytes (short writes resumed). */
export function writeAllSync(fd: number, bytes: Uint8Array, chunk = WRITE_CHUNK_BYTES): void {
  let written = 0;
  while (written < bytes.length) {
    written += writeSync(fd, bytes, written, Math.min(chunk, bytes.length - written));
  }
}

/**
 * Writes `target` atomically: a temp sibling is written, flushed to disk (fsync) and renamed over the target,
 * so a reader (or a crash, Ctrl-C, SIGKILL) sees the old file or the new one, never half of one. The temp
 * file is removed when anything fails; temp files that killed writers left in the folder are removed first.
 * The parent folder is created when missing.
 */
export async function writeFileAtomic(target: string, data: Uint8Array | string): Promise<void> {
  const dir = dirname(target);
  await mkdir(dir, { recursive: true });
  removeStaleTemps(dir);
  const temp = tempPathFor(target);
  try {
    const handle = await open(temp, "w");
    try {
      await handle.writeFile(toBytes(data));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** {@link writeFileAtomic} for callers that cannot await (the same guarantees). */
export function writeFileAtomicSync(target: string, data: Uint8Array | string): void {
  const dir = dirname(target);
  mkdirSync(dir, { recursive: true });
  removeStaleTemps(dir);
  const temp = tempPathFor(target);
  try {
    const fd = openSync(temp, "w");
    try {
      writeAllSync(fd, toBytes(data));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, target);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}

/** True when an errno-style error has the given code. */
export function hasCode(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === code;
}
