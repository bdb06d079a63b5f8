/**
 * The example report's own code — only data shaping: its results (read with the runner's loadResults) to
 * the template's data. The experiments run through `nabla experiments` (package script `experiments`).
 * `node dist/render.js [--results DIR] [--out DIR] [--no-pdf]`.
 */
import { readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { renderReport } from "@nabla/report";
import { loadResults, type Results, readExperimentsFolder } from "@nabla/runner";

export const EXAMPLE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function optimizerLabel(r: Results): string {
  const o = r.spec.optimizer as { kind: string; momentum?: number };
  return o.kind === "sgd" && (o.momentum ?? 0) > 0 ? `SGD, momentum ${o.momentum}` : o.kind.toUpperCase();
}

/** A run a row of the table shows; numbers a run does not have are null (the helpers print "—"). */
interface Row {
  name: string;
  optimizer: string;
  /** "ok", "diverged in epoch n", or "failed: no results file". */
  status: string;
  bestEpoch: number | null;
  testAccuracy: number | null;
}

function row(r: Results): Row {
  const m = r.metrics;
  return {
    name: r.name,
    optimizer: optimizerLabel(r),
    status: r.status === "diverged" ? `diverged in epoch ${m.divergedAtEpoch ?? "?"}` : "ok",
    bestEpoch: m.bestEpoch,
    testAccuracy: m.testAccuracy,
  };
}

/**
 * What report.hbs prints, from the results files and the names of the experiments that have none (failed,
 * or not run yet), sorted by name. A diverged or failed run is shown as such, never as epoch 0 with accuracy 0.
 */
export function exampleData(results: Results[], missing: string[] = []) {
  if (results.length === 0) throw new Error("example report: no results files — run the experiments first");
  const failed = missing.map(
    (name): Row => ({
      name,
      optimizer: "—",
      status: "failed: no results file",
      bestEpoch: null,
      testAccuracy: null,
    }),
  );
  const runs = [...results.map(row), ...failed].sort((a, b) => (a.name < b.name ? -1 : 1));
  // The best of the runs that have a test accuracy (a run that diverged in its first epoch has none).
  const scored = runs.filter((r) => r.testAccuracy !== null);
  const best = scored.reduce<Row | null>(
    (a, b) => (a === null || (b.testAccuracy ?? 0) > (a.testAccuracy ?? 0) ? b : a),
    null,
  );
  return {
    title: "Example report: momentum on generated data",
    dataset: results[0].spec.data.source === "synthetic" ? "generated CIFAR-shaped data" : "CIFAR-10",
    epochs: results[0].spec.epochs,
    runs,
    best,
    notOk: runs.filter((r) => r.status !== "ok").length,
    validationChart: {
      $schema: "https://vega.github.io/schema/vega-lite/v5.json",
      width: 420,
      height: 200,
      data: {
        values: results.flatMap((r) =>
          r.metrics.valAccuracy.map((a, i) => ({ run: r.name, epoch: i + 1, a })),
        ),
      },
      mark: { type: "line", point: true },
      encoding: {
        x: { field: "epoch", type: "quantitative", title: "epoch", axis: { tickMinStep: 1 } },
        y: { field: "a", type: "quantitative", title: "validation accuracy", scale: { zero: false } },
        color: { field: "run", type: "nominal", title: null, legend: { orient: "bottom", labelLimit: 400 } },
      },
    },
  };
}

export async function renderExample(
  opts: { resultsDir?: string; outDir?: string; pdf?: boolean; experimentsDir?: string } = {},
) {
  const resultsDir = opts.resultsDir ?? join(EXAMPLE_ROOT, "results");
  const files = readdirSync(resultsDir).filter((f) => f.endsWith(".json"));
  const results = files.map((f) => loadResults(join(resultsDir, f)));
  // Every run the experiments folder asks for; those without a results file failed (or were not run).
  const expected = readExperimentsFolder(opts.experimentsDir ?? join(EXAMPLE_ROOT, "experiments")).flatMap(
    (entry) => (entry.training ?? []).map((spec) => spec.name),
  );
  const have = new Set(results.map((r) => r.name));
  const data = exampleData(
    results,
    expected.filter((name) => !have.has(name)),
  );
  const out = await renderReport({
    templateDir: join(EXAMPLE_ROOT, "templates"),
    data,
    outDir: opts.outDir ?? join(EXAMPLE_ROOT, "out"),
    pdf: opts.pdf ?? true,
    title: data.title,
  });
  return { ...out, data };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? resolve(args[i + 1]) : undefined;
  };
  renderExample({ resultsDir: flag("--results"), outDir: flag("--out"), pdf: !args.includes("--no-pdf") })
    .then((out) => console.log(`example: wrote ${out.pdfPath ?? out.htmlPath}`))
    .catch((error: Error) => {
      console.error(`example: ${error.message}`);
      process.exit(1);
    });
}
