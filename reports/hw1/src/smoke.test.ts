/**
 * End-to-end smoke through the real packages: the runner trains on generated data (1 epoch, 2 learning
 * rates, one of them diverging), TF.js runs its cross-check on a small network, and the report renders
 * the results to a PDF. Catches any drift between the runner's results format and what the report reads.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runExperiment, runSweep } from "@nabla/runner";
import { crossCheck } from "@nabla/tfjs";
import { afterAll, expect, it } from "vitest";
import { renderHw1 } from "./render.js";
import { RESULT_NAMES } from "./results.js";

/** Tests do not read reports/hw1/experiments: the sweep is whatever the results folder holds. */
const NO_SPECS = "/nonexistent/experiments";
const work = mkdtempSync(join(tmpdir(), "nabla-hw1-smoke-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

it("trains on generated data with the real runner and renders the report", async () => {
  const resultsDir = join(work, "results");
  mkdirSync(resultsDir, { recursive: true });
  const data = { source: "synthetic", trainCount: 1200, testCount: 300, validationSize: 200 };
  const base = { data, epochs: 1 };
  await runExperiment({ name: RESULT_NAMES.q3, ...base }, { resultsDir });
  await runExperiment({ name: RESULT_NAMES.q4a, ...base, model: { kind: "mlp-tfjs" } }, { resultsDir });
  await runExperiment(
    { name: RESULT_NAMES.q4bii, ...base, scheduler: { kind: "multistep", milestones: [1, 2], gamma: 0.1 } },
    { resultsDir },
  );
  const sweep = await runSweep(
    { name: "q4b-iii", ...base, grid: { lr: [0.1, 1e4] } },
    { resultsDir, workers: 1 },
  );
  expect(sweep.failures).toEqual([]);
  const check = await crossCheck({ steps: 3, dims: [3072, 16, 10], batchSize: 8 });
  writeFileSync(join(resultsDir, `${RESULT_NAMES.crossCheck}.json`), JSON.stringify(check));

  const out = await renderHw1({
    resultsDir,
    experimentsDir: NO_SPECS,
    outDir: join(work, "out"),
    q5Samples: 5000,
  });
  expect(out.overflowing).toEqual([]);
  const text = execFileSync("pdftotext", [out.pdfPath as string, "-"], { encoding: "utf8" }).replace(
    /\s+/g,
    " ",
  );
  expect(text).toContain("These results come from generated data");
  expect(text).toContain("A sweep over 2 learning rates");
  expect(text).toContain("diverged in epoch 1");
  expect(text).toContain(out.data.q3.testAccuracy?.toFixed(4));
  for (let n = 1; n <= 5; n++) expect(text).toContain(`Figure ${n}.`);
});
