/**
 * `nabla worker`: takes sweep members off a BullMQ queue and runs each with the runner's own experiment code
 * (a worker thread, as in a local sweep), reporting progress on the job and returning the results object.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { type Job, UnrecoverableError, WaitingError, Worker } from "bullmq";
import { UserError } from "../errors.js";
import { cachedResults } from "../experiment.js";
import type { Results } from "../results.js";
import { runSweep } from "../sweep.js";
import type { ProgressEvent } from "../train.js";
import { type JobPayload, kernelId, type MemberProgress, parsePayload } from "./job.js";
import { checkConnection, parseQueueUrl } from "./url.js";

export interface QueueWorkerOptions {
  url: string;
  queueName: string;
  /** Jobs run at once, each in its own worker thread (default 1). */
  concurrency?: number;
  /**
   * How long a job's lock lives without renewal, and how often stalled jobs are looked for. A worker that
   * dies mid-job loses its lock after this long, and the next check by any live worker requeues the job.
   */
  lockSeconds?: number;
  /** The worker's own results cache (default: a temp folder removed on exit). */
  cacheDir?: string;
  /** Aborting puts the running jobs back on the queue and stops the worker. */
  signal?: AbortSignal;
  log: (line: string) => void;
}

/** At most this often a step's progress goes to Redis; epochs always do. */
const STEP_PROGRESS_MS = 500;

function toProgress(event: ProgressEvent, worker: string): MemberProgress | undefined {
  if (event.type === "start")
    return { type: "start", worker, epochs: event.epochs, stepsPerEpoch: event.stepsPerEpoch };
  if (event.type === "step" || event.type === "epoch") {
    const { name: _name, ...rest } = event;
    return rest;
  }
  return undefined;
}

/** Runs until the signal aborts (or the connection fails for good). */
export async function runQueueWorker(options: QueueWorkerOptions): Promise<void> {
  const target = parseQueueUrl(options.url);
  const { connection, display } = target;
  await checkConnection(target);
  const lockMs = Math.round((options.lockSeconds ?? 30) * 1000);
  const ownCache = options.cacheDir === undefined;
  const cacheDir = options.cacheDir ?? mkdtempSync(join(tmpdir(), "nabla-worker-"));
  const me = `${hostname()}:${process.pid}`;
  const { log } = options;
  /** Aborts every running experiment when this worker is told to stop. */
  const stopping = new AbortController();

  const processor = async (job: Job<JobPayload, Results>, token?: string): Promise<Results> => {
    let spec: ReturnType<typeof parsePayload>["spec"];
    try {
      spec = parsePayload(job.data, job.id).spec;
    } catch (err) {
      log(`rejected job ${job.id ?? "(no id)"}: ${(err as Error).message}`);
      throw new UnrecoverableError((err as Error).message);
    }
    const { key } = cachedResults(spec, cacheDir);
    if (key !== job.id) {
      // Results this worker would compute belong to another cache key: not the ones the coordinator asked for.
      throw new UnrecoverableError(
        `${spec.name}: this worker's cache key differs from the coordinator's (same built code and GEMM kernel needed: coordinator ${job.data.kernel}, worker ${kernelId()} on ${me})`,
      );
    }
    log(`${spec.name}: started (job ${key.slice(0, 12)})`);
    let lastStep = 0;
    let pending: Promise<unknown> = Promise.resolve();
    const onProgress = (event: ProgressEvent) => {
      const progress = toProgress(event, me);
      if (progress === undefined) return;
      if (progress.type === "step") {
        const now = performance.now();
        if (now - lastStep < STEP_PROGRESS_MS) return;
        lastStep = now;
      }
      if (progress.type === "epoch")
        log(`${spec.name}: epoch ${progress.epoch}/${progress.epochs} loss ${progress.trainLoss.toFixed(4)}`);
      // In order, never awaited by the training: progress is for display and may be lost.
      pending = pending.then(() => job.updateProgress(progress)).catch(() => {});
    };
    const outcome = await runSweep([spec], {
      resultsDir: cacheDir,
      workers: 1,
      signal: stopping.signal,
      onProgress,
    });
    await pending;
    const done = outcome.outcomes[0];
    if (done !== undefined) {
      log(
        `${spec.name}: ${done.cached ? "cached" : `done in ${done.results.timings.totalSeconds.toFixed(1)} s`}`,
      );
      return done.results;
    }
    const failure = outcome.failures[0];
    if (failure !== undefined) {
      log(`${spec.name}: failed: ${failure.message}`);
      throw new UnrecoverableError(failure.message);
    }
    // Stopped (Ctrl-C on this worker): back to waiting at once, for another worker or a later run.
    await job.moveToWait(token);
    log(`${spec.name}: stopped, back on the queue`);
    throw new WaitingError();
  };

  const worker = new Worker<JobPayload, Results>(options.queueName, processor, {
    connection,
    concurrency: options.concurrency ?? 1,
    lockDuration: lockMs,
    stalledInterval: lockMs,
    // A job whose worker died twice is failed rather than handed out forever (a job that kills workers).
    maxStalledCount: 2,
    autorun: false,
  });
  let lastError = "";
  worker.on("error", (err) => {
    // ioredis retries on its own; say so once per distinct problem rather than on every attempt.
    if (err.message !== lastError) log(`queue ${display}: ${err.message}`);
    lastError = err.message;
  });
  const stop = () => {
    stopping.abort();
    void worker.close();
  };
  options.signal?.addEventListener("abort", stop, { once: true });
  try {
    await worker.waitUntilReady().catch((err: Error) => {
      throw new UserError(`--queue ${display}: cannot connect (${err.message})`);
    });
    log(`worker ${me} on ${display} queue "${options.queueName}", ${options.concurrency ?? 1} at a time`);
    if (options.signal?.aborted !== true) await worker.run();
  } finally {
    options.signal?.removeEventListener("abort", stop);
    await worker.close();
    if (ownCache) rmSync(cacheDir, { recursive: true, force: true });
  }
}
