import { constants } from "node:buffer";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

/** A file over the limit of what it was read as; `size` is known only for regular files. */
export class InputTooLargeError extends Error {
  override name = "InputTooLargeError";
  readonly code = "EFBIG";
  constructor(
    readonly path: string,
    readonly what: string,
    readonly limit: number,
    readonly size?: number,
  ) {
    super(
      `${path}: the ${what} is ${size === undefined ? "larger than" : `${formatSize(size)}, over`} the limit of ${formatSize(limit)}`,
    );
  }
}

/** Bytes in binary units, one decimal: what the size messages of this package print. */
export function formatSize(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  return `${(n / 1024).toFixed(1)} KiB`;
}

/** Like the write side: a single read is capped by Node at 2^31 - 1 bytes. */
const MAX_READ = 1 << 30;
const FIRST_CHUNK = 64 * 1024;

/**
 * Reads a whole file, refusing it (InputTooLargeError) as soon as more than `maxBytes` have been read. The
 * bound is on bytes actually read, not on what `stat` says: a FIFO, /dev/zero or a file that grows while it
 * is read would otherwise grow the buffer until the process runs out of memory. For a regular file `stat`
 * only lets an oversized one be refused without reading it, and sizes the buffer. Errors of the file system
 * (ENOENT, EISDIR, …) are thrown as they are. `what` names the input in the message ("spec file").
 */
// Declared as Uint8Array (a Buffer is one): the published types must not need @types/node.
export function readFileBounded(path: string, maxBytes: number, what = "file"): Uint8Array {
  const fd = openSync(path, "r");
  try {
    const stat = fstatSync(fd);
    const regular = stat.isFile();
    if (regular && stat.size > maxBytes) throw new InputTooLargeError(path, what, maxBytes, stat.size);
    const chunks: Buffer[] = [];
    let total = 0;
    // One more byte than allowed is room enough to tell "exactly at the limit" from "over it".
    let size = regular ? Math.min(stat.size + 1, maxBytes + 1) : Math.min(FIRST_CHUNK, maxBytes + 1);
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.max(1, Math.min(size, constants.MAX_LENGTH)));
      let filled = 0;
      while (filled < chunk.length) {
        const n = readSync(fd, chunk, filled, Math.min(MAX_READ, chunk.length - filled), null);
        if (n === 0) break;
        filled += n;
      }
      total += filled;
      chunks.push(filled === chunk.length ? chunk : chunk.subarray(0, filled));
      if (total > maxBytes) throw new InputTooLargeError(path, what, maxBytes);
      if (filled < chunk.length) break;
      // Doubling keeps the number of reads logarithmic in the size; never past the limit (+1).
      size = Math.min(chunk.length * 2, maxBytes + 1 - total);
    }
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

/** {@link readFileBounded}, decoded as UTF-8 (spec, results and task files). */
export function readTextBounded(path: string, maxBytes: number, what = "file"): string {
  const bytes = readFileBounded(path, maxBytes, what);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
}
