import { closeSync, mkdirSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import { tempPathFor } from "./atomic.js";

/** Why a folder cannot take output, as one line naming it; the error's `code` is the errno code. */
export class OutputDirError extends Error {
  override name = "OutputDirError";
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/**
 * Makes sure `dir` can take output files before any long work starts: creates it (and its parents) when
 * missing, and proves it writable by writing and removing a temp file — a permission check alone misses
 * read-only mounts and runs as root. `what` names the folder in the message ("results folder").
 */
export function ensureOutputDir(dir: string, what = "output folder"): void {
  try {
    if (statSync(dir).isDirectory() === false) {
      throw new OutputDirError(`${dir}: expected a ${what}, found a file`, "ENOTDIR");
    }
  } catch (err) {
    if (err instanceof OutputDirError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOTDIR")
      throw new OutputDirError(`${dir}: cannot create the ${what}: a parent is a file`, code);
    if (code !== "ENOENT")
      throw new OutputDirError(`${dir}: cannot use the ${what} (${code})`, code ?? "EIO");
    try {
      mkdirSync(dir, { recursive: true });
    } catch (mkdirErr) {
      const c = (mkdirErr as NodeJS.ErrnoException).code ?? "EIO";
      const why = c === "ENOTDIR" || c === "EEXIST" ? "a parent is a file" : c;
      throw new OutputDirError(`${dir}: cannot create the ${what} (${why})`, c);
    }
  }
  const probe = tempPathFor(`${dir}/.write-probe`);
  try {
    const fd = openSync(probe, "w");
    try {
      writeSync(fd, "probe");
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "EIO";
    throw new OutputDirError(`${dir}: the ${what} is not writable (${code})`, code);
  } finally {
    rmSync(probe, { force: true });
  }
}
