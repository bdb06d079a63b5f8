import { createReadStream } from "node:fs";
import { createGunzip } from "node:zlib";
import { CifarDataError, describeError } from "./errors.js";

/**
 * A minimal streaming reader for .tar.gz archives (ustar, GNU long names, pax path records) that hands
 * over only the regular-file entries whose full path is in `wanted`. Nothing is ever written to a path
 * taken from the archive (callers map the wanted name to their own output), so there is no path traversal;
 * every other entry is skipped without being buffered.
 *
 * Returns the set of wanted names that were found; `onEntry` receives each wanted entry's whole content.
 */
export async function readTarGzEntries(
  archivePath: string,
  wanted: ReadonlySet<string>,
  onEntry: (name: string, data: Buffer) => Promise<void> | void,
  onCompressedBytes?: (bytesRead: number) => void,
): Promise<Set<string>> {
  const found = new Set<string>();
  const source = createReadStream(archivePath, { highWaterMark: 1 << 20 });
  let compressedRead = 0;
  source.on("data", (chunk) => {
    compressedRead += chunk.length;
    onCompressedBytes?.(compressedRead);
  });
  const gunzip = source.pipe(createGunzip());
  source.on("error", (error) => gunzip.destroy(error));

  let pending: Buffer = Buffer.alloc(0);
  let entry: BodyState | null = null;
  let overrideName: string | null = null; // from a preceding GNU 'L' or pax 'x' header
  let ended = false;

  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      if (ended) continue; // trailing zero blocks / padding after the end marker
      pending = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
      for (;;) {
        if (entry === null) {
          if (pending.length < 512) break;
          const header = pending.subarray(0, 512);
          pending = pending.subarray(512);
          if (header.every((b) => b === 0)) {
            ended = true;
            break;
          }
          const parsed = parseHeader(header, archivePath);
          const name = overrideName ?? parsed.name;
          overrideName = null;
          const isMeta = parsed.type === "L" || parsed.type === "x";
          const isFile = parsed.type === "0" || parsed.type === "\0" || parsed.type === "7";
          const keep = isMeta || (isFile && wanted.has(normaliseName(name)));
          entry = {
            name: normaliseName(name),
            type: parsed.type,
            remaining: parsed.size,
            padding: (512 - (parsed.size % 512)) % 512,
            body: keep ? Buffer.allocUnsafe(parsed.size) : null,
            filled: 0,
          };
        }
        if (entry.remaining > 0) {
          if (pending.length === 0) break;
          const take = Math.min(entry.remaining, pending.length);
          if (entry.body) pending.copy(entry.body, entry.filled, 0, take);
          entry.filled += take;
          entry.remaining -= take;
          pending = pending.subarray(take);
          if (entry.remaining > 0) break;
        }
        if (entry.padding > 0) {
          const skip = Math.min(entry.padding, pending.length);
          entry.padding -= skip;
          pending = pending.subarray(skip);
          if (entry.padding > 0) break;
        }
        const done: BodyState = entry;
        entry = null;
        if (done.body === null) continue;
        if (done.type === "L") overrideName = done.body.toString("utf8").replace(/\0.*$/s, "");
        else if (done.type === "x") overrideName = paxPath(done.body) ?? overrideName;
        else {
          found.add(done.name);
          await onEntry(done.name, done.body);
        }
      }
    }
  } catch (error) {
    if (error instanceof CifarDataError) throw error;
    throw new CifarDataError(archivePath, `unreadable .tar.gz archive: ${describeError(error)}`, {
      cause: error,
    });
  } finally {
    source.destroy();
  }
  if (entry !== null) {
    throw new CifarDataError(archivePath, `archive truncated inside entry ${entry.name}`);
  }
  return found;
}

interface BodyState {
  name: string;
  type: string;
  remaining: number;
  padding: number;
  body: Buffer | null;
  filled: number;
}

function parseHeader(header: Buffer, archivePath: string): { name: string; size: number; type: string } {
  const stored = parseOctal(header.subarray(148, 156));
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : header[i];
  if (stored !== sum) {
    throw new CifarDataError(archivePath, `corrupt tar header (checksum ${stored}, computed ${sum})`);
  }
  const name = cString(header.subarray(0, 100));
  const magic = header.subarray(257, 263).toString("latin1");
  const prefix = magic.startsWith("ustar") ? cString(header.subarray(345, 500)) : "";
  const sizeField = header.subarray(124, 136);
  // GNU base-256 encoding for sizes >= 8 GiB: high bit of the first byte set.
  const size =
    sizeField[0] & 0x80 ? sizeField.subarray(1).reduce((acc, b) => acc * 256 + b, 0) : parseOctal(sizeField);
  return { name: prefix ? `${prefix}/${name}` : name, size, type: String.fromCharCode(header[156]) };
}

function cString(bytes: Buffer): string {
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end < 0 ? bytes.length : end).toString("utf8");
}

function parseOctal(bytes: Buffer): number {
  const text = cString(bytes).trim();
  return text === "" ? 0 : Number.parseInt(text, 8);
}

/** The `path` record of a pax extended header ("<len> path=<value>\n" records). */
function paxPath(body: Buffer): string | null {
  // Record lengths count bytes (not characters), so walk the buffer, not a decoded string.
  let at = 0;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    if (space < 0) break;
    const length = Number.parseInt(body.subarray(at, space).toString("latin1"), 10);
    if (!(length > 0) || at + length > body.length) break;
    const record = body.subarray(space + 1, at + length - 1).toString("utf8");
    if (record.startsWith("path=")) return record.slice(5);
    at += length;
  }
  return null;
}

function normaliseName(name: string): string {
  return name.replace(/^(\.\/)+/, "");
}
