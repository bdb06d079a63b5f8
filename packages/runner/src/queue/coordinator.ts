/**
 * `nabla sweep --queue`: puts every uncached member of a sweep on a BullMQ queue (job id = its cache key)
 * and writes each results file as its job completes, showing the workers' progress from the queue's events.
 */
import { type Job, Queue, QueueEvents } from "bullmq";
import { UserError } from "../errors.js";
import { cachedOutcome, cachedResults, type RunOutcome } from "../experiment.js";
import { ensureResultsDir, type Results, writeResults } from "../results.js";
import type { ExperimentSpec } from "../spec.js";
import { collectOutcomes, type SweepFailure, type SweepOutcome } from "../sweep.js";
import type { ProgressListener } from "../train.js";
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
  /** How often job states are read back, in case an event was missed (default 5 s). */
  pollSeconds?: number;
}

export interface QueueSweepOutcome extends SweepOutcome {
  /** Jobs this call added to the queue (members already queued, running or completed there are not). */
  added: number;
}

/** Completed jobs stay a week, so another coordinator of the same sweep collects them without training. */
const KEEP = { age: 7 * 24 * 3600 };

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
  }
  let added = 0;
  if (waiting.size > 0 && signal?.aborted !== true) {
    await checkConnection(target);
    const queue = new Queue<JobPayload, Results>(options.queueName, { connection });
    const events = new QueueEvents(options.queueName, { connection });
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
    try {
      // Listening before anything is added: no completion can slip between the add and the subscription.
      await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]).catch(failConnect);
      added = await settle(queue, events, waiting, { ...options, log }, byName, failures);
    } finally {
      await Promise.allSettled([events.close(), queue.close()]);
    }
  }
  return { ...collectOutcomes(specs, byName, failures), failures, added };
}

/** Enqueues what is missing, then resolves when every job has completed or failed, or on abort. */
async function settle(
  queue: Queue<JobPayload, Results>,
  events: QueueEvents,
  waiting: Map<string, Member[]>,
  options: QueueSweepOptions & { log: (line: string) => void },
  byName: Map<string, RunOutcome>,
  failures: SweepFailure[],
): Promise<number> {
  const { onProgress, signal, log } = options;
  const names = (id: string) => (waiting.get(id) ?? []).map((m) => m.spec.name);
  let wake: () => void = () => {};
  const finish = (id: string, job: Job<JobPayload, Results> | undefined, reason?: string) => {
    const members = waiting.get(id);
    if (members === undefined) return;
    waiting.delete(id);
    for (const m of members) {
      try {
        if (job === undefined || reason !== undefined)
          throw new Error(reason ?? "the job disappeared from the queue");
        const results = resultsFromJob(job.returnvalue, m.spec, id);
        writeResults(m.file, results);
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
  const check = async (id: string) => {
    const job = await queue.getJob(id);
    const state = job === undefined ? "unknown" : await job.getState();
    if (state === "completed" || state === "failed" || state === "unknown")
      finish(id, job, state === "failed" ? (job?.failedReason ?? "failed") : undefined);
  };
  events.on("completed", ({ jobId }) => {
    if (waiting.has(jobId)) void check(jobId).catch(() => {});
  });
  events.on("failed", ({ jobId }) => {
    if (waiting.has(jobId)) void check(jobId).catch(() => {});
  });
  events.on("progress", ({ jobId, data }) => {
    const p = parseProgress(data);
    if (p === undefined) return;
    for (const name of names(jobId)) {
      if (p.type === "start")
        onProgress?.({ type: "data", name, message: `running on worker ${String(p.worker)}` });
      else if (p.type === "step" || p.type === "epoch") onProgress?.({ ...p, name });
    }
  });

  let added = 0;
  for (const [id, members] of [...waiting]) {
    const first = members[0];
    let job = await queue.getJob(id);
    let state = job === undefined ? undefined : await job.getState();
    if (job !== undefined && (state === "failed" || (options.force === true && state === "completed"))) {
      // A rerun retries what failed; --force trains a completed job again.
      await job.remove().catch(() => {});
      job = undefined;
      state = undefined;
    }
    if (job === undefined) {
      await queue.add(first.spec.name, toPayload(first.spec, id), {
        jobId: id,
        attempts: 1,
        removeOnComplete: KEEP,
        removeOnFail: KEEP,
      });
      added++;
      log(`${names(id).join(", ")}: queued (job ${id.slice(0, 12)})`);
    } else {
      log(`${names(id).join(", ")}: already ${state} on the queue (job ${id.slice(0, 12)})`);
    }
    await check(id);
  }

  const pollMs = (options.pollSeconds ?? 5) * 1000;
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
      const job = await queue.getJob(id);
      if (job !== undefined && (await job.getState()) === "waiting") await job.remove().catch(() => {});
    }
  }
  return added;
}
