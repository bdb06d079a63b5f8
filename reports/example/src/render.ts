/**
 * The example report's own code — only data shaping: its results (read with the runner's loadResults) to
 * the template's data. The experiments run through `nabla experiments` (package script `experiments`).
 * `node dist/render.js [--results DIR] [--out DIR] [--no-pdf]`.
 */
import { readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { renderReport } from "@nabla/report";
import { loadResults, type Results } from "@nabla/runner";

export const EXAMPLE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function optimizerLabel(r: Results): string {
  const o = r.spec.optimizer as { kind: string; momentum?: number };
  return o.kind === "sgd" && (o.momentum ?? 0) > 0 ? `SGD, momentum ${o.momentum}` : o.kind.toUpperCase();
}

/** What report.hbs prints, from the results files (sorted by name). */
export function exampleData(results: Results[]) {
  if (results.length === 0) throw new Error("example report: no results files — run the experiments first");
  const runs = results
    .map((r) => ({
      name: r.name,
      optimizer: optimizerLabel(r),
      bestEpoch: r.metrics.bestEpoch ?? 0,
      testAccuracy: r.metrics.testAccuracy ?? 0,
    }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  const best = runs.reduce((a, b) => (b.testAccuracy > a.testAccuracy ? b : a));
  return {
    title: "Example report: momentum on generated data",
    dataset: results[0].spec.data.source === "synthetic" ? "generated CIFAR-shaped data" : "CIFAR-10",
    epochs: results[0].spec.epochs,
    runs,
    best,
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

export async function renderExample(opts: { resultsDir?: string; outDir?: string; pdf?: boolean } = {}) {
  const resultsDir = opts.resultsDir ?? join(EXAMPLE_ROOT, "results");
  const files = readdirSync(resultsDir).filter((f) => f.endsWith(".json"));
  const data = exampleData(files.map((f) => loadResults(join(resultsDir, f))));
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
