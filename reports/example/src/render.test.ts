/** The second report, end to end: its experiments folder through the runner's driver, then its PDF. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderReport } from "@nabla/report";
import { type Results, runExperimentsFolder } from "@nabla/runner";
import { afterAll, expect, it } from "vitest";
import { EXAMPLE_ROOT, exampleData, renderExample } from "./render.js";

const work = mkdtempSync(join(tmpdir(), "nabla-example-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

it("runs its experiments folder and renders the runs' numbers into the PDF", async () => {
  const resultsDir = join(work, "results");
  const outcome = await runExperimentsFolder({
    dir: join(EXAMPLE_ROOT, "experiments"),
    resultsDir,
    workers: 2,
  });
  expect(outcome.failures).toEqual([]);
  expect(outcome.runs.map((r) => r.results.name).sort()).toEqual([
    "baseline",
    "momentum-optimizer.momentum=0.5",
    "momentum-optimizer.momentum=0.9",
  ]);
  const out = await renderExample({ resultsDir, outDir: join(work, "out") });
  const text = execFileSync("pdftotext", [out.pdfPath as string, "-"], { encoding: "utf8" }).replace(
    /\s+/g,
    " ",
  );
  expect(text).toContain("3 training runs on generated CIFAR-shaped data");
  for (const run of out.data.runs)
    expect(text).toContain(`${run.name} ${run.optimizer} ${run.bestEpoch} ${run.testAccuracy?.toFixed(4)}`);
  expect(text).toContain("Figure 1. Validation accuracy per epoch");
  expect(out.overflowing).toEqual([]);
});

/** A results object with only what the example's data shaping reads. */
function fake(
  name: string,
  status: "ok" | "diverged",
  bestEpoch: number | null,
  testAccuracy: number | null,
) {
  return {
    name,
    status,
    spec: { optimizer: { kind: "sgd", momentum: 0 }, data: { source: "synthetic" }, epochs: 4 },
    metrics: {
      bestEpoch,
      testAccuracy,
      valAccuracy: [],
      divergedAtEpoch: status === "diverged" ? 1 : undefined,
    },
  } as unknown as Results;
}

it("shows diverged and failed runs as such, not as epoch 0 with accuracy 0.0000", async () => {
  const data = exampleData([fake("a", "ok", 3, 0.5), fake("b", "diverged", null, null)], ["c"]);
  expect(data.runs.map((r) => [r.name, r.status, r.bestEpoch, r.testAccuracy])).toEqual([
    ["a", "ok", 3, 0.5],
    ["b", "diverged in epoch 1", null, null],
    ["c", "failed: no results file", null, null],
  ]);
  expect(data.best?.name).toBe("a");
  const out = await renderReport({
    templateDir: join(EXAMPLE_ROOT, "templates"),
    data,
    outDir: join(work, "statuses"),
    pdf: false,
    title: data.title,
  });
  const html = readFileSync(out.htmlPath, "utf8");
  expect(html).toContain('<td>diverged in epoch 1</td><td class="num">—</td><td class="num">—</td>');
  expect(html).toContain('<td>failed: no results file</td><td class="num">—</td><td class="num">—</td>');
  expect(html).not.toContain("0.0000");
  expect(html).toContain("2 did not finish normally");
  const none = exampleData([fake("b", "diverged", null, null)]);
  expect(none.best).toBeNull();
});
