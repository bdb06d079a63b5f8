/**
 * End-to-end smoke through the real packages: the runner trains on generated data (1 epoch, 2 run seeds,
 * 2 learning rates, one of them diverging), TF.js runs its cross-check on a small network, and the report renders
 * the results to a PDF. Catches any drift between the runner's results format and what the report reads.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runExperimentsFolder } from "@nabla/runner";
import { afterAll, expect, it } from "vitest";
import { renderHw1 } from "./render.js";
import "./tasks.js";
import { RESULT_NAMES } from "./results.js";

const work = mkdtempSync(join(tmpdir(), "nabla-hw1-smoke-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

it("runs an experiments folder through the runner's driver (training, sweep, tasks) and renders the report", async () => {
  const resultsDir = join(work, "results");
  const experimentsDir = join(work, "experiments");
  mkdirSync(experimentsDir, { recursive: true });
  const data = { source: "synthetic", trainCount: 1200, testCount: 300, validationSize: 200 };
  // Two run seeds: the least the seed statistics take.
  const base = { data, epochs: 1, grid: { seed: [42, 1] } };
  const specs: Record<string, unknown> = {
    [RESULT_NAMES.q3]: { name: RESULT_NAMES.q3, ...base },
    [RESULT_NAMES.q4a]: { name: RESULT_NAMES.q4a, ...base, model: { kind: "mlp-tfjs" } },
    [RESULT_NAMES.q4bii]: {
      name: RESULT_NAMES.q4bii,
      ...base,
      scheduler: { kind: "multistep", milestones: [1, 2], gamma: 0.1 },
    },
    "q4b-iii": { name: "q4b-iii", ...base, grid: { lr: [0.1, 1e4], seed: [42, 1] } },
    [RESULT_NAMES.crossCheck]: {
      name: RESULT_NAMES.crossCheck,
      kind: "tfjs-crosscheck",
      steps: 3,
      dims: [3072, 16, 10],
      batchSize: 8,
    },
    [RESULT_NAMES.q5]: { name: RESULT_NAMES.q5, kind: "q5-monte-carlo", samples: 5000 },
  };
  for (const [name, spec] of Object.entries(specs)) {
    writeFileSync(join(experimentsDir, `${name}.json`), JSON.stringify(spec));
  }
  const first = await runExperimentsFolder({ dir: experimentsDir, resultsDir, workers: 2 });
  expect(first.failures).toEqual([]);
  expect(first.runs.map((r) => r.results.name).sort()).toEqual(
    ["q3", "q4a", "q4b-ii", "q4b-iii-lr=0.1", "q4b-iii-lr=10000"]
      .flatMap((n) => [`${n}-seed=42`, `${n}-seed=1`])
      .sort(),
  );
  expect(first.tasks.map((t) => [t.results.name, t.cached])).toEqual([
    [RESULT_NAMES.crossCheck, false],
    [RESULT_NAMES.q5, false],
  ]);
  // A second run is a cache hit for every entry, tasks included.
  const second = await runExperimentsFolder({ dir: experimentsDir, resultsDir, workers: 2 });
  expect([...second.runs, ...second.tasks].every((o) => o.cached)).toBe(true);

  const out = await renderHw1({
    resultsDir,
    experimentsDir,
    outDir: join(work, "out"),
  });
  expect(out.overflowing).toEqual([]);
  const text = execFileSync("pdftotext", [out.pdfPath as string, "-"], { encoding: "utf8" }).replace(
    /\s+/g,
    " ",
  );
  expect(text).toContain("These results come from generated data");
  expect(text).toContain("A sweep over 2 learning rates");
  expect(text).toContain("diverged in epoch 1 (2 of 2)");
  expect(text).toContain(out.data.seeds.q3.testAccuracy.meanSd);
  expect(text).toContain(out.data.q3.testAccuracy?.toFixed(4));
  for (let n = 1; n <= 5; n++) expect(text).toContain(`Figure ${n}.`);
});
