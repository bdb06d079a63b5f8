import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { CancelledError, UserError } from "./errors.js";
import { cachedOutcome, cachedResults, type RunOutcome } from "./experiment.js";
import { preflight } from "./preflight.js";
import { ensureResultsDir } from "./results.js";
import { type ExperimentSpec, expandSweep, parseSpec } from "./spec.js";
import type { ProgressEvent, ProgressListener } from "./train.js";

/** Messages to a sweep worker. */
export type ToWorker =
  | { type: "run"; spec: ExperimentSpec; resultsDir: string; force: boolean }
  | { type: "stop" };

/** Messages from a sweep worker. */
export type FromWorker =
  | { type: "progress"; event: ProgressEvent }
  | { type: "done"; outcome: RunOutcome }
  | { type: "error"; name: string; kind: string; user: boolean; message: string; stack?: string };

export interface SweepOptions {
  resultsDir: string;
  force?: boolean;
  /** Worker threads running experiments at once (default: the number of cores). */
  workers?: number;
  /** Aborting stops every running experiment (nothing half-written); finished ones are kept. */
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  /**
   * Modules (paths or file URLs) each worker thread imports before its first run: where layers, optimizers,
   * schedulers or datasets registered from user code live (registrations are per thread).
   */
  modules?: string[];
}

export interface SweepFailure {
  name: string;
  message: string;
  /** True for a user error (bad data folder, missing optional package), false for a bug. */
  user: boolean;
  stack?: string;
}

export interface SweepOutcome {
  /** Finished experiments (trained or cached), in the sweep's order. */
  outcomes: RunOutcome[];
  failures: SweepFailure[];
  /** Names of the experiments that did not finish because the sweep was stopped. */
  cancelled: string[];
}

/**
 * The compiled worker script. Next to this module when running from dist/; when this module runs from src/
 * (vitest), the built dist/worker.js is used, so the package must be built first (turbo's test needs build).
 */
export function workerScript(): URL {
  const sibling = new URL("./worker.js", import.meta.url);
  if (existsSync(fileURLToPath(sibling))) return sibling;
  const built = new URL("../dist/worker.js", import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  throw new Error("@nabla/runner: dist/worker.js is missing; build the package first (pnpm build)");
}

/** Experiments of a sweep: a spec with `grid`, a plain spec, or a list of specs. */
export function sweepExperiments(input: unknown, source = "spec", maxMembers?: number): ExperimentSpec[] {
  if (Array.isArray(input)) {
    if (maxMembers !== undefined && input.length > maxMembers) {
      throw new UserError(`${source}: a list of ${input.length} specs, more than the limit of ${maxMembers}`);
    }
    return input.map((s, i) => parseSpec(s, `${source}[${i}]`));
  }
  return expandSweep(input, source, maxMembers);
}

/**
 * Runs the experiments of a sweep in parallel worker threads, each cached on its own (cache hits are
 * answered here without starting a worker). Resolves when every experiment has finished, failed or been
 * cancelled; it rejects only for a bad spec.
 */
export async function runSweep(input: unknown, options: SweepOptions): Promise<SweepOutcome> {
  const specs = sweepExperiments(input);
  const { resultsDir, onProgress, signal } = options;
  const force = options.force === true;
  const workerCount = options.workers ?? availableParallelism();
  if (!Number.isInteger(workerCount) || workerCount < 1) {
    throw new UserError(`workers: expected a positive integer, got ${String(options.workers)}`);
  }
  for (const spec of specs) preflight(spec);
  ensureResultsDir(resultsDir);
  const byName = new Map<string, RunOutcome>();
  const failures: SweepFailure[] = [];
  const queue: ExperimentSpec[] = [];
  for (const spec of specs) {
    const cached = force ? undefined : cachedResults(spec, resultsDir);
    if (cached?.results !== undefined) {
      byName.set(
        spec.name,
        cachedOutcome(spec, { file: cached.file, results: cached.results }, 0, onProgress),
      );
    } else {
      queue.push(spec);
    }
  }

  if (queue.length > 0 && signal?.aborted !== true) {
    const script = workerScript();
    await new Promise<void>((resolve) => {
      const workers: Worker[] = [];
      let stopping = false;
      let live = 0;
      const stopAll = () => {
        stopping = true;
        for (const w of workers) w.postMessage({ type: "stop" } satisfies ToWorker);
      };
      signal?.addEventListener("abort", stopAll, { once: true });
      const finished = new Set<Worker>();
      /** The experiment each worker is running. */
      const running = new Map<Worker, string>();
      const finishWorker = (worker: Worker) => {
        if (finished.has(worker)) return;
        finished.add(worker);
        void worker.terminate();
        live--;
        if (live === 0) {
          signal?.removeEventListener("abort", stopAll);
          resolve();
        }
      };
      const next = (worker: Worker) => {
        const spec = stopping ? undefined : queue.shift();
        if (spec === undefined) finishWorker(worker);
        else {
          running.set(worker, spec.name);
          worker.postMessage({ type: "run", spec, resultsDir, force } satisfies ToWorker);
        }
      };
      for (let i = 0; i < Math.min(workerCount, queue.length); i++) {
        const worker = new Worker(script, { workerData: { modules: options.modules ?? [] } });
        workers.push(worker);
        live++;
        worker.on("message", (message: FromWorker) => {
          if (message.type === "progress") {
            onProgress?.(message.event);
          } else if (message.type === "done") {
            byName.set(message.outcome.results.name, message.outcome);
            running.delete(worker);
            next(worker);
          } else {
            running.delete(worker);
            if (message.kind !== new CancelledError().name) {
              failures.push({
                name: message.name,
                message: message.message,
                user: message.user,
                stack: message.stack,
              });
            }
            next(worker);
          }
        });
        worker.on("error", (err) => {
          // The worker itself crashed (not an experiment error): record it and let the others go on.
          const name = running.get(worker) ?? "(worker)";
          failures.push({ name, message: err.message, user: false, stack: err.stack });
          running.delete(worker);
          finishWorker(worker);
        });
        worker.on("exit", () => {
          const name = running.get(worker);
          if (name !== undefined) {
            failures.push({ name, message: "the worker thread exited unexpectedly", user: false });
          }
          finishWorker(worker);
        });
        next(worker);
      }
    });
  }

  return { ...collectOutcomes(specs, byName, failures), failures };
}

/**
 * The finished experiments in the sweep's order, and those that neither finished nor failed (cancelled), from
 * the outcomes collected by name (local workers or the queue).
 */
export function collectOutcomes(
  specs: readonly ExperimentSpec[],
  byName: ReadonlyMap<string, RunOutcome>,
  failures: readonly SweepFailure[],
): { outcomes: RunOutcome[]; cancelled: string[] } {
  const outcomes: RunOutcome[] = [];
  const cancelled: string[] = [];
  const failed = new Set(failures.map((f) => f.name));
  for (const spec of specs) {
    const outcome = byName.get(spec.name);
    if (outcome !== undefined) outcomes.push(outcome);
    else if (!failed.has(spec.name)) cancelled.push(spec.name);
  }
  return { outcomes, cancelled };
}
