import type { ProgressEvent, ProgressListener } from "./train.js";

export interface ProgressRenderer {
  listener: ProgressListener;
  /** Removes the live bars (call before printing anything else, and at the end). */
  clear(): void;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

function bar(fraction: number, width: number): string {
  const filled = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
}

/** Losses with 4 decimals, or in exponent form once a run blows up (1.2346e+13, not 14 digits). */
const loss = (x: number) => (Math.abs(x) < 1e4 ? x.toFixed(4) : x.toExponential(4));

const pct = (x: number | null) => (x === null ? "n/a" : `${(100 * x).toFixed(2)}%`);

/** Without a terminal, a long epoch still prints where it is this often (a log shows a run is alive). */
export const EPOCH_PROGRESS_LOG_MS = 30_000;

type StepEvent = Extract<ProgressEvent, { type: "step" }>;

/** Batches, running loss, samples/s and the epoch's ETA of a step event (the live bar's and the log's text). */
export function describeStep(event: StepEvent): string {
  const perStep = event.epochElapsedSeconds / event.step;
  const eta = perStep * (event.stepsPerEpoch - event.step);
  const rate = event.samples / event.epochElapsedSeconds;
  return (
    `${event.step}/${event.stepsPerEpoch} batches  loss ${loss(event.loss)}  ` +
    `${Number.isFinite(rate) ? Math.round(rate) : "--"} samples/s  ETA ${formatDuration(eta)}`
  );
}

/** One permanent line per epoch / result; the same text on a terminal and in a log. */
export function describeEvent(event: ProgressEvent): string | undefined {
  switch (event.type) {
    case "data":
      return `${event.name}: ${event.message}`;
    case "epoch":
      return (
        `${event.name}: epoch ${event.epoch}/${event.epochs}  train loss ${loss(event.trainLoss)}  ` +
        `val acc ${pct(event.valAccuracy)}  val loss ${loss(event.valLoss)}  lr ${event.lr}  ` +
        `${event.seconds.toFixed(1)} s`
      );
    case "diverged":
      return `${event.name}: diverged in epoch ${event.epoch} (NaN/Inf loss)`;
    case "done": {
      const how = event.cached ? "cached" : `${event.seconds.toFixed(1)} s`;
      const best = event.bestEpoch === null ? "" : ` (best val epoch ${event.bestEpoch})`;
      return `${event.name}: ${event.status}, test acc ${pct(event.testAccuracy)}${best}, ${how} -> ${event.file}`;
    }
    default:
      return undefined;
  }
}

/**
 * A stream the CLI and the progress renderer write text to: process.stdout/stderr, or any object with `write`.
 * Structural rather than Node's WritableStream type so that the published types do not require @types/node.
 */
export interface TextOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/**
 * Renders progress on `stream`. On a TTY: a live bar per running experiment (epoch, batches, running loss,
 * ETA of the epoch), redrawn at most 10 times a second, with permanent lines printed above the bars.
 * Otherwise (CI, a log file, TERM=dumb, NO_COLOR set): only the permanent lines, with no escape sequences.
 */
export function createProgressRenderer(stream: TextOutput): ProgressRenderer {
  // Live bars need cursor movement: only on a terminal that has it and when colour/escapes are not refused.
  const tty = stream.isTTY === true && process.env.TERM !== "dumb" && process.env.NO_COLOR === undefined;
  const bars = new Map<string, string>();
  /** Per experiment, how many EPOCH_PROGRESS_LOG_MS periods of its current epoch were logged. */
  const loggedAt = new Map<string, number>();
  let drawn = 0;
  let lastDraw = 0;

  const erase = () => {
    if (drawn > 0) stream.write(`\x1b[${drawn}A\r\x1b[J`);
    drawn = 0;
  };
  const draw = () => {
    // Some terminals (and `script`) report 0 columns: assume 100 then.
    const width = Math.max(40, (stream.columns || 100) - 1);
    for (const line of bars.values()) stream.write(`${line.slice(0, width)}\x1b[K\n`);
    drawn = bars.size;
    lastDraw = performance.now();
  };

  const listener: ProgressListener = (event) => {
    if (
      event.type === "data" &&
      event.done !== undefined &&
      event.total !== undefined &&
      event.done < event.total
    ) {
      // An intermediate part of a data step: a transient bar on a terminal, nothing in a log.
      if (!tty) return;
      bars.set(event.name, `${event.name}: ${event.message} [${event.done}/${event.total}]`);
      if (performance.now() - lastDraw < 100) return;
      erase();
      draw();
      return;
    }
    if (event.type === "data") bars.delete(event.name);
    if (event.type === "step") {
      if (!tty) {
        // A log line within a long epoch, every EPOCH_PROGRESS_LOG_MS of it (none for short epochs).
        const logged = loggedAt.get(event.name) ?? 0;
        const due = Math.floor((event.epochElapsedSeconds * 1000) / EPOCH_PROGRESS_LOG_MS);
        if (event.step < event.stepsPerEpoch && due > logged) {
          loggedAt.set(event.name, due);
          stream.write(`${event.name}: epoch ${event.epoch}/${event.epochs}  ${describeStep(event)}\n`);
        } else if (event.step === event.stepsPerEpoch) loggedAt.delete(event.name);
        return;
      }
      bars.set(
        event.name,
        `${event.name} epoch ${event.epoch}/${event.epochs} ${bar(event.step / event.stepsPerEpoch, 24)} ${describeStep(event)}`,
      );
      if (performance.now() - lastDraw < 100 && event.step !== event.stepsPerEpoch) return;
      erase();
      draw();
      return;
    }
    if (event.type === "done" || event.type === "diverged") bars.delete(event.name);
    const line = describeEvent(event);
    if (line === undefined) return;
    if (tty) erase();
    stream.write(`${line}\n`);
    if (tty) draw();
  };
  return {
    listener,
    clear() {
      if (tty) erase();
      bars.clear();
    },
  };
}
