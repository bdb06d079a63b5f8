/** The progress line's text: pure functions, so Node tests can check them. */
import type { ProgressEvent } from "@nabla/runner/training";

/** 75.2 -> "1 min 15 s", 4.04 -> "4.0 s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "…";
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds - minutes * 60);
  return minutes < 60 ? `${minutes} min ${rest} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/**
 * Seconds left from the steps done so far: the mean time per step over the whole run (validation passes
 * included) times the steps to go. Unknown ("…") before the first step.
 */
export function etaSeconds(elapsedSeconds: number, stepsDone: number, stepsTotal: number): number {
  if (stepsDone <= 0) return Number.NaN;
  return (elapsedSeconds / stepsDone) * (stepsTotal - stepsDone);
}

/** "epoch 2/5 · batch 120/352 · train loss 1.832 · ETA 1 min 12 s" for a step event. */
export function progressLine(
  event: Extract<ProgressEvent, { type: "step" }>,
  elapsedSeconds: number,
): string {
  const done = (event.epoch - 1) * event.stepsPerEpoch + event.step;
  const eta = etaSeconds(elapsedSeconds, done, event.epochs * event.stepsPerEpoch);
  return (
    `epoch ${event.epoch}/${event.epochs} · batch ${event.step}/${event.stepsPerEpoch} · ` +
    `train loss ${event.loss.toFixed(3)} · ETA ${formatDuration(eta)}`
  );
}
