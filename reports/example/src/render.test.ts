/** The second report, end to end: its experiments folder through the runner's driver, then its PDF. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runExperimentsFolder } from "@nabla/runner";
import { afterAll, expect, it } from "vitest";
import { EXAMPLE_ROOT, renderExample } from "./render.js";

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
    expect(text).toContain(`${run.name} ${run.optimizer} ${run.bestEpoch} ${run.testAccuracy.toFixed(4)}`);
  expect(text).toContain("Figure 1. Validation accuracy per epoch");
  expect(out.overflowing).toEqual([]);
});
