/** `nabla experiments <folder>`: a report's whole experiments folder, through the experiments driver. */
import {
  batchExitCode,
  describeFailure,
  importModules,
  interruptible,
  type Out,
  onePositional,
  parse,
  positiveIntFlag,
} from "./cli-args.js";
import { runExperimentsFolder } from "./folder.js";
import { createProgressRenderer } from "./progress.js";

export const EXPERIMENTS_HELP = `Usage: nabla experiments <folder> [--out dir] [--tasks module.js]... [--only a,b] [--force] [--workers n]

Runs every spec of <folder> (*.json, in name order) into <out>/<name>.json: training specs and sweeps (their
members in parallel worker threads) and tasks (specs with a "kind", computed by a function a module
registered with registerTask). Each result is cached on its own: an unchanged spec with unchanged code costs
nothing. Every spec is validated before anything runs.

Options:
  --out, -o dir       results folder (default: ./results)
  --tasks, -t file    a module to import first, here and in every worker thread (it registers the folder's
                      task kinds, and any layer, optimizer or dataset its specs use); repeatable
  --only names        comma-separated spec names to run (a sweep by its own name)
  --workers, -w n     worker threads for training (default: the number of cores)
  --force, -f         recompute even when cached results are up to date
  --help, -h          this text`;

export async function experimentsCommand(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parse("experiments", args, {
    out: { type: "string", short: "o" },
    tasks: { type: "string", short: "t", multiple: true },
    only: { type: "string" },
    force: { type: "boolean", short: "f" },
    workers: { type: "string", short: "w" },
  });
  if (values.help) {
    io.out.write(`${EXPERIMENTS_HELP}\n`);
    return 0;
  }
  const dir = onePositional(positionals, "experiments", "experiments folder");
  const workers = positiveIntFlag("workers", values.workers as string | undefined);
  const modules = await importModules(values.tasks as string[] | undefined, "--tasks");
  const progress = createProgressRenderer(io.err);
  const { signal, dispose } = interruptible(io);
  const started = performance.now();
  try {
    const outcome = await runExperimentsFolder({
      dir,
      resultsDir: (values.out as string | undefined) ?? "results",
      force: values.force === true,
      only: typeof values.only === "string" ? values.only.split(",") : undefined,
      workers,
      signal,
      modules,
      onProgress: progress.listener,
      log: (line) => {
        progress.clear();
        io.err.write(`nabla: ${line}\n`);
      },
    });
    progress.clear();
    for (const f of outcome.failures) io.err.write(describeFailure(f));
    const all = [...outcome.runs, ...outcome.tasks];
    const computed = all.filter((o) => !o.cached).length;
    io.err.write(
      `nabla: experiments: ${all.length} results (${computed} computed, ${all.length - computed} cached) in ` +
        `${((performance.now() - started) / 1000).toFixed(1)} s` +
        (outcome.failures.length > 0 ? `, ${outcome.failures.length} failed` : "") +
        (outcome.cancelled.length > 0 ? `, ${outcome.cancelled.length} cancelled` : "") +
        "\n",
    );
    return batchExitCode(outcome);
  } finally {
    progress.clear();
    dispose();
  }
}
