/** The CLI side of the queue: `nabla sweep --queue <url>` (the coordinator) and `nabla worker`. */
import {
  batchExitCode,
  describeFailure,
  IMPORT_OPTION,
  importModules,
  interruptible,
  type Out,
  parse,
  positiveIntFlag,
} from "../cli-args.js";
import { echo, UsageError } from "../errors.js";
import { createProgressRenderer } from "../progress.js";
import type { ExperimentSpec } from "../spec.js";
import { runQueueSweep } from "./coordinator.js";
import { parseQueueName } from "./url.js";
import { runQueueWorker } from "./worker.js";

const MAX_LOCK_SECONDS = 86_400;

export const QUEUE_SWEEP_OPTIONS = {
  queue: { type: "string" },
  "queue-name": { type: "string" },
} as const;

export const WORKER_HELP = `Usage: nabla worker --queue redis://[:password@]host[:port][/db] [--queue-name name] [--concurrency n]
                    [--lock-seconds s] [--cache-dir folder] [--import module]...

Takes sweep members off the queue (put there by \`nabla sweep <spec> --queue <url>\` on any machine), runs
each with the same experiment code as a local run, in a worker thread, and returns its results and
checkpoint to the coordinator (also when Redis lost the job's lock under it). A job is data only: its spec
is validated like a spec file (a malformed job fails unrun), and the data (CIFAR-10) is this machine's own,
fetched and verified here. Ctrl-C puts the running jobs back on the queue. A worker that dies mid-job loses
its lock after --lock-seconds; a live worker then requeues it and resumes it after the last epoch the dead
worker finished.

Options:
  --queue url         Redis URL; rediss:// for TLS (a private CA: NODE_EXTRA_CA_CERTS=ca.pem)
  --queue-name name   queue name (default: nabla)
  --concurrency n     jobs at once, each in its own thread (default: 1)
  --lock-seconds s    lock lifetime and stalled-job check interval (default: 30)
  --cache-dir folder  keep this worker's results here (default: a temp folder removed on exit)
  --import module     a module to import before taking jobs, here and in every job's thread (a path
                      relative to the cwd, or a package): the layers, optimizers, datasets... a sweep's
                      --import registered; repeatable
  --help, -h          this text`;

/** `nabla sweep <spec> --queue <url>`: the coordinator. */
export async function queueSweepCommand(
  specs: ExperimentSpec[],
  values: Record<string, string | boolean | undefined>,
  io: Out,
): Promise<number> {
  if (values.workers !== undefined)
    throw new UsageError("--workers: not used with --queue (start `nabla worker` processes instead)");
  const progress = createProgressRenderer(io.err);
  const { signal, dispose } = interruptible(io);
  const started = performance.now();
  try {
    const result = await runQueueSweep(specs, {
      url: values.queue as string,
      queueName: parseQueueName(values["queue-name"] as string | undefined),
      resultsDir: (values.out as string | undefined) ?? "results",
      force: values.force === true,
      signal,
      onProgress: progress.listener,
      log: (line) => {
        progress.clear();
        io.err.write(`nabla: ${line}\n`);
      },
    });
    progress.clear();
    for (const f of result.failures) io.err.write(describeFailure(f));
    const cached = result.outcomes.filter((o) => o.cached).length;
    io.err.write(
      `nabla: sweep ${result.outcomes.length}/${specs.length} finished (${cached} cached, ${result.added} queued now) ` +
        `in ${((performance.now() - started) / 1000).toFixed(1)} s` +
        (result.requeued > 0 ? `, ${result.requeued} queued again after vanishing from the queue` : "") +
        (result.failures.length > 0 ? `, ${result.failures.length} failed` : "") +
        (result.cancelled.length > 0
          ? `, ${result.cancelled.length} cancelled (running jobs finish on their workers; a rerun collects them)`
          : "") +
        "\n",
    );
    return batchExitCode(result);
  } finally {
    progress.clear();
    dispose();
  }
}

export async function workerCommand(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parse("worker", args, {
    ...QUEUE_SWEEP_OPTIONS,
    concurrency: { type: "string", short: "c" },
    "lock-seconds": { type: "string" },
    "cache-dir": { type: "string" },
    ...IMPORT_OPTION,
  });
  if (values.help) {
    io.out.write(`${WORKER_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0)
    throw new UsageError(
      `worker: expected no arguments, got "${echo(positionals.join(" "))}" (see nabla worker --help)`,
    );
  if (typeof values.queue !== "string")
    throw new UsageError("worker: --queue: expected a Redis URL (redis://[:password@]host[:port][/db])");
  const lock = values["lock-seconds"] === undefined ? 30 : Number(values["lock-seconds"]);
  // The lock is renewed on a timer: past a day a setTimeout overflows and fires at once, hammering Redis.
  if (!Number.isFinite(lock) || lock < 1 || lock > MAX_LOCK_SECONDS)
    throw new UsageError(
      `--lock-seconds: expected a number of seconds from 1 to ${MAX_LOCK_SECONDS}, got "${echo(String(values["lock-seconds"]))}"`,
    );
  const modules = await importModules(values.import);
  const { signal, dispose } = interruptible(io);
  try {
    await runQueueWorker({
      modules,
      url: values.queue,
      queueName: parseQueueName(values["queue-name"] as string | undefined),
      concurrency: positiveIntFlag("concurrency", values.concurrency),
      lockSeconds: lock,
      cacheDir: values["cache-dir"] as string | undefined,
      signal,
      log: (line) => io.err.write(`nabla worker: ${line}\n`),
    });
    return signal.aborted ? 130 : 0;
  } finally {
    dispose();
  }
}
