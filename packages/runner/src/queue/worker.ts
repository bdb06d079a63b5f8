/**
 * `nabla worker`: takes sweep members off a BullMQ queue and runs each with the runner's own experiment code
 * (a worker thread, as in a local sweep), reporting progress on the job and returning its Delivery (results,
 * and the checkpoint under a key of its own).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { type Job, UnrecoverableError, WaitingError, Worker } from "bullmq";
import { Redis, type RedisOptions } from "ioredis";
import { checkpointPath } from "../checkpoint.js";
import { echo, UserError } from "../errors.js";
import { cachedResults } from "../experiment.js";
import { resultsPath } from "../results.js";
import { runSweep } from "../sweep.js";
import type { ProgressEvent } from "../train.js";
import { trainingStatePath } from "../training-state.js";
import { type Delivery, deliverIfLockLost, deliveryKeys, shipCheckpoint } from "./delivery.js";
import { restoreState, stateUploader } from "./handover.js";
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
  /** Registration modules (URLs) each job's thread imports first (runSweep's `modules`). */
  modules?: string[];
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
  // Checkpoints and the lock check are plain keys: a client of our own (BullMQ's are its internals).
  const redis = new Redis(connection as RedisOptions);
  let toKey: (type: string) => string = (type) => type;

  const processor = async (job: Job<JobPayload, Delivery>, token?: string): Promise<Delivery> => {
    let spec: ReturnType<typeof parsePayload>["spec"];
    try {
      spec = parsePayload(job.data, job.id).spec;
    } catch (err) {
      log(`rejected job ${echo(job.id ?? "(no id)")}: ${(err as Error).message}`);
      throw new UnrecoverableError((err as Error).message);
    }
    const { key } = cachedResults(spec, cacheDir);
    if (key !== job.id) {
      // Results this worker would compute belong to another cache key: not the ones the coordinator asked for.
      throw new UnrecoverableError(
        `${spec.name}: this worker's cache key differs from the coordinator's (same built code and GEMM kernel needed: coordinator ${job.data.kernel}, worker ${kernelId()} on ${me})`,
      );
    }
    const keys = deliveryKeys(toKey, key);
    const stateFile = trainingStatePath(resultsPath(cacheDir, spec.name));
    const takenOver = await restoreState(redis, keys.state, stateFile);
    log(
      `${spec.name}: started (job ${key.slice(0, 12)})${takenOver ? ", from the state another worker left" : ""}`,
    );
    const upload = stateUploader(redis, keys.state, stateFile);
    let lastStep = 0;
    let pending: Promise<unknown> = Promise.resolve();
    const onProgress = (event: ProgressEvent) => {
      const uploading = upload(event);
      if (uploading !== undefined) pending = pending.then(() => uploading);
      if (event.type === "data" && event.message.startsWith("resuming after epoch"))
        log(`${spec.name}: ${event.message}`);
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
      modules: options.modules,
      signal: stopping.signal,
      onProgress,
    });
    await pending;
    const done = outcome.outcomes[0];
    if (done !== undefined) {
      log(
        `${spec.name}: ${done.cached ? "cached" : `done in ${done.results.timings.totalSeconds.toFixed(1)} s`}`,
      );
      await redis.del(keys.state).catch(() => {});
      const delivery = await shipCheckpoint(redis, keys, done.results, checkpointPath(done.file), me);
      if (delivery.checkpointOmitted !== undefined)
        log(`${spec.name}: checkpoint not sent: ${delivery.checkpointOmitted}`);
      // Redis restarted empty or flushed while this ran: BullMQ will refuse the result, the coordinator won't.
      const lock = await deliverIfLockLost(redis, keys, token, delivery);
      if (lock !== "held")
        log(
          `${spec.name}: lost the job's lock (Redis restarted or flushed?): results ${lock} beside the queue`,
        );
      return delivery;
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

  const worker = new Worker<JobPayload, Delivery>(options.queueName, processor, {
    connection,
    concurrency: options.concurrency ?? 1,
    lockDuration: lockMs,
    stalledInterval: lockMs,
    // A job whose worker died twice is failed rather than handed out forever (a job that kills workers).
    maxStalledCount: 2,
    autorun: false,
  });
  toKey = worker.toKey;
  let lastError = "";
  const onError = (err: Error) => {
    // BullMQ parses a job's data before the processor sees it: corrupted data is a job it cannot hand out.
    const message =
      err instanceof SyntaxError
        ? `a job on the queue is not valid JSON (${echo(err.message)})`
        : echo(err.message);
    // ioredis retries on its own; say so once per distinct problem rather than on every attempt.
    if (message !== lastError) log(`queue ${display}: ${message}`);
    lastError = message;
  };
  worker.on("error", onError);
  redis.on("error", onError);
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
    await redis.quit().catch(() => {});
    if (ownCache) rmSync(cacheDir, { recursive: true, force: true });
  }
}
