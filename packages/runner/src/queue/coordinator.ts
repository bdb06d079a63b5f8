/**
 * `nabla sweep --queue`: puts every uncached member of a sweep on a BullMQ queue (job id = its cache key)
 * and writes each results file (and checkpoint) as its job completes, showing the workers' progress from the
 * queue's events. The queue is not trusted to keep what it was given: a job that vanishes (Redis restarted
 * without persistence, FLUSHALL) is queued again from the member's spec, which the coordinator still holds.
 */
import { type Job, Queue, QueueEvents } from "bullmq";
import { Redis, type RedisOptions } from "ioredis";
import { echo, UserError } from "../errors.js";
import { cachedOutcome, cachedResults, type RunOutcome } from "../experiment.js";
import { estimateMemory } from "../preflight.js";
import { ensureResultsDir } from "../results.js";
import type { ExperimentSpec } from "../spec.js";
import { collectOutcomes, type SweepFailure, type SweepOutcome } from "../sweep.js";
import type { ProgressListener } from "../train.js";
import { verifyCheckpoint, writeMember } from "./arrival.js";
import {
  CheckpointGoneError,
  type Delivery,
  deliveryKeys,
  fetchCheckpoint,
  MAX_QUEUED_CHECKPOINT_BYTES,
  parseDelivery,
  readDelivery,
} from "./delivery.js";
import { type JobPayload, parseProgress, resultsFromJob, toPayload } from "./job.js";
import { checkConnection, parseQueueUrl } from "./url.js";

export interface QueueSweepOptions {
  url: string;
  queueName: string;
  resultsDir: string;
  force?: boolean;
  /** Aborting stops waiting: finished results stay, jobs not started yet are taken off the queue. */
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  log?: (line: string) => void;
  /** How often job states are read back, in case an event was missed or a job vanished (default 5 s). */
  pollSeconds?: number;
}

export interface QueueSweepOutcome extends SweepOutcome {
  /** Jobs this call added to the queue (members already queued, running or completed there are not). */
  added: number;
  /** Jobs queued again because they vanished from the queue. */
  requeued: number;
}

/** Completed jobs stay a week, so another coordinator of the same sweep collects them without training. */
const KEEP = { age: 7 * 24 * 3600 };
/** A job that keeps vanishing (someone flushing Redis in a loop) fails rather than being queued forever. */
const MAX_REQUEUES = 10;

interface Member {
  spec: ExperimentSpec;
  file: string;
  key: string;
}

export async function runQueueSweep(
  specs: ExperimentSpec[],
  options: QueueSweepOptions,
): Promise<QueueSweepOutcome> {
  const { resultsDir, onProgress, signal } = options;
  const log = options.log ?? (() => {});
  const target = parseQueueUrl(options.url);
  const { connection, display } = target;
  ensureResultsDir(resultsDir);
  const byName = new Map<string, RunOutcome>();
  const failures: SweepFailure[] = [];
  /** Members by job id: members whose resolved specs differ only in name share one job. */
  const waiting = new Map<string, Member[]>();
  for (const spec of specs) {
    const cached = cachedResults(spec, resultsDir);
    if (cached.results !== undefined && options.force !== true) {
      byName.set(
        spec.name,
        cachedOutcome(spec, { file: cached.file, results: cached.results }, 0, onProgress),
      );
      continue;
    }
    const members = waiting.get(cached.key) ?? [];
    members.push({ spec, file: cached.file, key: cached.key });
    waiting.set(cached.key, members);
    const checkpoint = estimateMemory(spec).files.checkpoint;
    if (members.length === 1 && checkpoint > MAX_QUEUED_CHECKPOINT_BYTES)
      log(
        `${spec.name}: its checkpoint (about ${(checkpoint / 2 ** 20).toFixed(0)} MiB) is over the queue's limit of ${MAX_QUEUED_CHECKPOINT_BYTES / 2 ** 20} MiB: its results will come without it`,
      );
  }
  let added = 0;
  let requeued = 0;
  if (waiting.size > 0 && signal?.aborted !== true) {
    await checkConnection(target);
    const queue = new Queue<JobPayload, Delivery>(options.queueName, { connection });
    const events = new QueueEvents(options.queueName, { connection });
    // Checkpoints and deliveries beside the queue are plain keys: read with a client of our own.
    const redis = new Redis(connection as RedisOptions);
    const failConnect = (err: Error): never => {
      throw new UserError(`--queue ${display}: cannot connect (${err.message})`);
    };
    let lastError = "";
    const onError = (err: Error) => {
      // ioredis reconnects on its own; one line per distinct problem, not one per attempt.
      if (err.message !== lastError) log(`queue ${display}: ${err.message}`);
      lastError = err.message;
    };
    queue.on("error", onError);
    events.on("error", onError);
    redis.on("error", onError);
    try {
      // Listening before anything is added: no completion can slip between the add and the subscription.
      await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]).catch(failConnect);
      const counts = await settle({
        queue,
        events,
        redis,
        waiting,
        options: { ...options, log },
        byName,
        failures,
      });
      added = counts.added;
      requeued = counts.requeued;
    } finally {
      await Promise.allSettled([events.close(), queue.close(), redis.quit()]);
    }
  }
  return { ...collectOutcomes(specs, byName, failures), failures, added, requeued };
}

interface Settle {
  queue: Queue<JobPayload, Delivery>;
  events: QueueEvents;
  redis: Redis;
  waiting: Map<string, Member[]>;
  options: QueueSweepOptions & { log: (line: string) => void };
  byName: Map<string, RunOutcome>;
  failures: SweepFailure[];
}

/** Enqueues what is missing, then resolves when every job has completed or failed, or on abort. */
async function settle(s: Settle): Promise<{ added: number; requeued: number }> {
  const { queue, events, redis, waiting, byName, failures } = s;
  const { onProgress, signal, log } = s.options;
  const names = (id: string) => (waiting.get(id) ?? []).map((m) => m.spec.name);
  const keysOf = (id: string) => deliveryKeys(queue.toKey, id);
  const requeues = new Map<string, number>();
  let wake: () => void = () => {};

  const fail = (id: string, reason: string) => {
    for (const m of waiting.get(id) ?? []) failures.push({ name: m.spec.name, message: reason, user: true });
    waiting.delete(id);
    wake();
  };
  const enqueue = async (id: string) => {
    const first = (waiting.get(id) ?? [])[0];
    if (first === undefined) return;
    await queue.add(first.spec.name, toPayload(first.spec, id), {
      jobId: id,
      attempts: 1,
      removeOnComplete: KEEP,
      removeOnFail: KEEP,
    });
  };
  /** A job that is gone (or whose checkpoint is): queued again, within MAX_REQUEUES. */
  const requeue = async (id: string, why: string) => {
    const n = (requeues.get(id) ?? 0) + 1;
    requeues.set(id, n);
    if (n > MAX_REQUEUES) return fail(id, `job ${id}: ${why}, ${MAX_REQUEUES} times; giving up`);
    await queue.remove(id).catch(() => {});
    await enqueue(id);
    log(`${names(id).join(", ")}: ${why}: queued again (job ${id.slice(0, 12)})`);
  };
  /** Writes every member of a delivered job; a checkpoint that does not verify fails them all. */
  const deliver = async (id: string, value: unknown) => {
    const members = waiting.get(id) ?? [];
    if (members.length === 0) return;
    let delivery: Delivery;
    let checkpoint: Parameters<typeof writeMember>[3];
    try {
      delivery = parseDelivery(value, id);
      const first = resultsFromJob(delivery.results, members[0].spec, id);
      if (delivery.checkpoint !== undefined) {
        const bytes = await fetchCheckpoint(redis, keysOf(id), delivery.checkpoint, id);
        checkpoint = { bytes, decoded: verifyCheckpoint(bytes, first, id) };
      } else if (first.metrics.bestEpoch !== null) {
        log(`${names(id).join(", ")}: no checkpoint: ${delivery.checkpointOmitted ?? "none was sent"}`);
      }
    } catch (err) {
      if (err instanceof CheckpointGoneError) return requeue(id, "its checkpoint vanished from the queue");
      // What the queue holds for this job is wrong: taken off it, so that a rerun trains it again.
      await queue.remove(id).catch(() => {});
      await redis.del(keysOf(id).delivery, keysOf(id).checkpoint).catch(() => {});
      return fail(id, (err as Error).message);
    }
    waiting.delete(id);
    for (const m of members) {
      try {
        const results = resultsFromJob(delivery.results, m.spec, id);
        writeMember(m.spec, m.file, results, checkpoint);
        byName.set(m.spec.name, { results, file: m.file, cached: false });
        onProgress?.({
          type: "done",
          name: m.spec.name,
          status: results.status,
          testAccuracy: results.metrics.testAccuracy,
          bestEpoch: results.metrics.bestEpoch,
          cached: false,
          file: m.file,
          seconds: results.timings.totalSeconds,
        });
      } catch (err) {
        failures.push({ name: m.spec.name, message: (err as Error).message, user: true });
      }
    }
    wake();
  };
  const busy = new Set<string>();
  let lastCheckError = "";
  const check = async (id: string) => {
    if (busy.has(id) || !waiting.has(id)) return;
    busy.add(id);
    try {
      let job: Job<JobPayload, Delivery> | undefined;
      try {
        job = await queue.getJob(id);
      } catch (err) {
        // BullMQ parses the job's data as JSON: a job corrupted in Redis is treated as gone.
        if (!(err instanceof SyntaxError)) throw err;
      }
      const state = job === undefined ? "unknown" : await job.getState();
      if (state === "completed") return await deliver(id, job?.returnvalue);
      // A worker that lost its lock (Redis restarted or flushed under it) leaves its results beside the queue.
      const delivered = await readDelivery(redis, keysOf(id), id);
      if (delivered !== undefined) {
        await deliver(id, delivered);
        if (state === "waiting" || state === "prioritized" || state === "delayed")
          await job?.remove().catch(() => {});
        return;
      }
      if (state === "failed") return fail(id, echo(job?.failedReason ?? "failed", 1000));
      if (state === "unknown")
        await requeue(id, "the job vanished from the queue (Redis restarted empty, or flushed?)");
    } catch (err) {
      // Redis away or a reply that makes no sense: said once (not per job and poll), tried at the next poll.
      const message = `queue: ${echo((err as Error).message)}`;
      if (message !== lastCheckError) log(message);
      lastCheckError = message;
    } finally {
      busy.delete(id);
    }
  };
  const onFinished = ({ jobId }: { jobId: string }) => {
    if (waiting.has(jobId)) void check(jobId);
  };
  events.on("completed", onFinished);
  events.on("failed", onFinished);
  events.on("progress", ({ jobId, data }) => {
    const p = parseProgress(data);
    if (p === undefined) return;
    for (const name of names(jobId)) {
      if (p.type === "start")
        onProgress?.({ type: "data", name, message: `running on worker ${echo(p.worker)}` });
      else if (p.type === "step" || p.type === "epoch") onProgress?.({ ...p, name });
    }
  });

  let added = 0;
  for (const id of [...waiting.keys()]) {
    let job = await queue.getJob(id).catch(() => undefined);
    let state = job === undefined ? undefined : await job.getState();
    // --force trusts nothing a previous run left: neither its delivery nor its training state.
    if (s.options.force === true)
      await redis.del(keysOf(id).delivery, keysOf(id).checkpoint, keysOf(id).state);
    const forced = s.options.force === true && state === "completed";
    if (job !== undefined && (state === "failed" || forced)) {
      // A rerun retries what failed (from a state a worker left, if any); --force trains a completed job again.
      await job.remove().catch(() => {});
      job = undefined;
      state = undefined;
    }
    if (job === undefined) {
      await queue.remove(id).catch(() => {});
      await enqueue(id);
      added++;
      log(`${names(id).join(", ")}: queued (job ${id.slice(0, 12)})`);
    } else {
      log(`${names(id).join(", ")}: already ${state} on the queue (job ${id.slice(0, 12)})`);
    }
    await check(id);
  }

  const pollMs = (s.options.pollSeconds ?? 5) * 1000;
  while (waiting.size > 0 && signal?.aborted !== true) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, pollMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
      signal?.addEventListener("abort", wake, { once: true });
    });
    signal?.removeEventListener("abort", wake);
    for (const id of [...waiting.keys()]) await check(id);
  }
  if (signal?.aborted === true) {
    // Jobs nobody has started are taken back (a rerun adds them again); running ones finish on their
    // workers and stay completed on the queue, where a rerun collects them without training.
    for (const id of waiting.keys()) {
      const job = await queue.getJob(id).catch(() => undefined);
      if (job !== undefined && (await job.getState()) === "waiting") await job.remove().catch(() => {});
    }
  }
  return { added, requeued: [...requeues.values()].reduce((a, b) => a + b, 0) };
}
