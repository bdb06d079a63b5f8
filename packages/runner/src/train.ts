import type { BatchStream } from "@nabla/data";
import { CancelledError } from "./errors.js";
import type { ModelState, TrainableModel } from "./models.js";
import type { Metrics } from "./results.js";

/** Progress of one experiment, for a progress bar or a log. Epochs are 1-based. */
export type ProgressEvent =
  | {
      type: "data";
      name: string;
      message: string;
      /** Progress of a multi-part data step (files verified, bytes downloaded); only the last part is logged. */
      done?: number;
      total?: number;
    }
  | { type: "start"; name: string; epochs: number; stepsPerEpoch: number }
  | {
      type: "step";
      name: string;
      epoch: number;
      epochs: number;
      step: number;
      stepsPerEpoch: number;
      /** Mean loss of this epoch's steps so far. */
      loss: number;
      /** Training samples seen this epoch so far. */
      samples: number;
      epochElapsedSeconds: number;
    }
  | {
      type: "epoch";
      name: string;
      epoch: number;
      epochs: number;
      trainLoss: number;
      valAccuracy: number;
      valLoss: number;
      lr: number;
      seconds: number;
    }
  | { type: "diverged"; name: string; epoch: number }
  | {
      type: "done";
      name: string;
      status: "ok" | "diverged";
      testAccuracy: number | null;
      bestEpoch: number | null;
      cached: boolean;
      file: string;
      seconds: number;
    };

export type ProgressListener = (event: ProgressEvent) => void;

/** Above this many steps the per-step curve is averaged over windows so a results file stays small. */
export const MAX_CURVE_POINTS = 5000;

export interface TrainOptions {
  name: string;
  epochs: number;
  model: TrainableModel;
  train: BatchStream;
  validation: BatchStream;
  test: BatchStream;
  /** The learning rate for the coming epoch (read before it starts). */
  currentLr: () => number;
  /** Called after every epoch (an epoch scheduler's step). */
  endEpoch: () => void;
  /** Called after every optimizer step (a per-step scheduler's, e.g. one-cycle). */
  endStep?: () => void;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  /**
   * Continue after `resume.epoch` completed epochs, as if the loop had never stopped: the model, optimizer and
   * scheduler must already hold that epoch's state (epoch e's batches depend only on the seed and e).
   */
  resume?: TrainProgress;
  /**
   * Called after every completed epoch (its endEpoch included), before the next starts — the one place a run's
   * state can be saved without touching the steps. The arrays are the loop's own: read them, never keep them.
   */
  afterEpoch?: (progress: TrainProgress) => void | Promise<void>;
}

/** Where a run stands after its last completed epoch: what `afterEpoch` gets and `resume` takes. */
export interface TrainProgress {
  /** Completed epochs. */
  epoch: number;
  /** The loss of every step so far (all finite: a non-finite loss ends the run). */
  stepLosses: number[];
  trainLoss: number[];
  valAccuracy: number[];
  valLoss: number[];
  lr: number[];
  epochSeconds: number[];
  /** The best validation epoch so far, its accuracy and a copy of its parameters and buffers. */
  best?: { epoch: number; accuracy: number; state: ModelState };
}

export interface TrainOutcome {
  status: "ok" | "diverged";
  metrics: Metrics;
  epochSeconds: number[];
  testSeconds: number;
  /** The parameters and buffers of the best validation epoch (undefined when no epoch completed). */
  best?: { epoch: number; state: ModelState };
}

/** How often the loop yields to the event loop (signals, worker messages, progress output), in ms. */
const YIELD_MS = 50;
const STEP_EVENT_MS = 100;

// setImmediate where it exists (Node), a zero timeout in a browser.
const yieldToEventLoop = () =>
  new Promise<void>((resolve) => (typeof setImmediate === "function" ? setImmediate : setTimeout)(resolve));

/** Mean loss and accuracy of `model` (in eval mode) over one pass of `loader`. */
export async function evaluate(
  model: TrainableModel,
  loader: BatchStream,
): Promise<{ accuracy: number; loss: number }> {
  model.eval();
  let lossSum = 0;
  let correct = 0;
  let count = 0;
  for (const batch of loader.epoch(0)) {
    const r = model.evaluate(batch.x, batch.y, batch.size);
    lossSum += r.lossSum;
    correct += r.correct;
    count += batch.size;
  }
  return { accuracy: correct / count, loss: lossSum / count };
}

/** Averages a per-step curve over windows of `stride` steps (a NaN/Inf window becomes null). */
export function downsample(losses: number[], stride: number): (number | null)[] {
  const out: (number | null)[] = [];
  for (let i = 0; i < losses.length; i += stride) {
    let sum = 0;
    const end = Math.min(losses.length, i + stride);
    for (let j = i; j < end; j++) sum += losses[j];
    const mean = sum / (end - i);
    out.push(Number.isFinite(mean) ? mean : null);
  }
  return out;
}

function finiteOrNull(x: number | undefined): number | null {
  return x !== undefined && Number.isFinite(x) ? x : null;
}

/**
 * The training loop: per epoch, shuffled train batches (one optimizer step each), then validation.
 * Keeps a copy of the parameters of the best validation accuracy (the first epoch reaching it) and evaluates
 * the test set with them and with the last epoch's parameters. A NaN/Inf train or validation loss ends the
 * run with status "diverged" — a result, not an exception. An aborted signal throws CancelledError. With
 * `resume`, the loop starts after the given epochs and its outcome is that of the uninterrupted loop.
 */
export async function trainLoop(opts: TrainOptions): Promise<TrainOutcome> {
  const { name, epochs, model, signal, onProgress } = opts;
  const stepsPerEpoch = opts.train.batchesPerEpoch;
  const totalSteps = stepsPerEpoch * epochs;
  const stride = Math.max(1, Math.ceil(totalSteps / MAX_CURVE_POINTS));
  const from = opts.resume;
  const stepLosses: number[] = from?.stepLosses.slice() ?? [];
  const trainLoss: number[] = from?.trainLoss.slice() ?? [];
  const valAccuracy: number[] = from?.valAccuracy.slice() ?? [];
  const valLoss: number[] = from?.valLoss.slice() ?? [];
  const lrs: number[] = from?.lr.slice() ?? [];
  const epochSeconds: number[] = from?.epochSeconds.slice() ?? [];
  let best: { epoch: number; accuracy: number; state: ModelState } | undefined = from?.best;
  let divergedAtEpoch: number | undefined;
  let lastYield = performance.now();

  const checkpoint = async () => {
    const now = performance.now();
    if (now - lastYield < YIELD_MS) return;
    await yieldToEventLoop();
    lastYield = performance.now();
    if (signal?.aborted) throw new CancelledError(`${name}: cancelled`);
  };

  onProgress?.({ type: "start", name, epochs, stepsPerEpoch });
  for (let epoch = (from?.epoch ?? 0) + 1; epoch <= epochs && divergedAtEpoch === undefined; epoch++) {
    if (signal?.aborted) throw new CancelledError(`${name}: cancelled`);
    const lr = opts.currentLr();
    const started = performance.now();
    let lastEvent = started;
    let sum = 0;
    let step = 0;
    let samples = 0;
    model.train();
    for (const batch of opts.train.epoch(epoch - 1)) {
      const loss = opts.model.trainStep(batch.x, batch.y, batch.size);
      stepLosses.push(loss);
      step++;
      samples += batch.size;
      if (!Number.isFinite(loss)) {
        divergedAtEpoch = epoch;
        break;
      }
      sum += loss;
      opts.endStep?.();
      const now = performance.now();
      if (onProgress !== undefined && (now - lastEvent >= STEP_EVENT_MS || step === stepsPerEpoch)) {
        lastEvent = now;
        onProgress({
          type: "step",
          name,
          epoch,
          epochs,
          step,
          stepsPerEpoch,
          loss: sum / step,
          samples,
          epochElapsedSeconds: (now - started) / 1000,
        });
      }
      await checkpoint();
    }
    if (divergedAtEpoch !== undefined) break;
    const val = await evaluate(model, opts.validation);
    if (!Number.isFinite(val.loss)) {
      divergedAtEpoch = epoch;
      break;
    }
    const seconds = (performance.now() - started) / 1000;
    trainLoss.push(sum / step);
    valAccuracy.push(val.accuracy);
    valLoss.push(val.loss);
    lrs.push(lr);
    epochSeconds.push(seconds);
    if (best === undefined || val.accuracy > best.accuracy) {
      best = { epoch, accuracy: val.accuracy, state: await model.snapshot() };
    }
    onProgress?.({
      type: "epoch",
      name,
      epoch,
      epochs,
      trainLoss: sum / step,
      valAccuracy: val.accuracy,
      valLoss: val.loss,
      lr,
      seconds,
    });
    opts.endEpoch();
    await opts.afterEpoch?.({
      epoch,
      stepLosses,
      trainLoss,
      valAccuracy,
      valLoss,
      lr: lrs,
      epochSeconds,
      best,
    });
  }
  if (divergedAtEpoch !== undefined) onProgress?.({ type: "diverged", name, epoch: divergedAtEpoch });

  const testStarted = performance.now();
  let last: { accuracy: number; loss: number } | null = null;
  let bestTest: { accuracy: number; loss: number } | null = null;
  // After a divergence the current parameters are not the last epoch's (they are NaN): no "last" test.
  if (divergedAtEpoch === undefined) last = await evaluate(model, opts.test);
  if (best !== undefined) {
    if (last !== null && best.epoch === trainLoss.length) {
      bestTest = last;
    } else {
      await model.restore(best.state);
      bestTest = await evaluate(model, opts.test);
    }
  }
  const testSeconds = (performance.now() - testStarted) / 1000;

  const metrics: Metrics = {
    trainLoss,
    trainLossPerStep: downsample(stepLosses, stride),
    trainLossPerStepStride: stride,
    stepsPerEpoch,
    valAccuracy,
    valLoss,
    lr: lrs,
    testAccuracy: bestTest?.accuracy ?? null,
    testLoss: finiteOrNull(bestTest?.loss),
    bestEpoch: best?.epoch ?? null,
    lastTestAccuracy: last?.accuracy ?? null,
    lastTestLoss: finiteOrNull(last?.loss),
  };
  if (divergedAtEpoch !== undefined) metrics.divergedAtEpoch = divergedAtEpoch;
  return {
    status: divergedAtEpoch === undefined ? "ok" : "diverged",
    metrics,
    epochSeconds,
    testSeconds,
    best: best === undefined ? undefined : { epoch: best.epoch, state: best.state },
  };
}
