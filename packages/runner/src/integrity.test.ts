// The digest covers everything a reader of a results file uses: an edit anywhere is refused by loadResults
// (so by the reports and `nabla eval`) and recomputed by the runner, saying so.
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { tempDir, tinySpec } from "../test/helpers.js";
import { evaluateCheckpoint } from "./evaluate.js";
import { runExperiment } from "./experiment.js";
import { formatJson, loadResults } from "./results.js";

type Json = Record<string, Record<string, unknown>>;

const edits: [string, (r: Json) => void][] = [
  ["the spec's lr", (r) => (r.spec.lr = 0.5)],
  ["the spec's description", (r) => (r.spec.description = "a better run")],
  ["the environment's CPU", (r) => (r.environment.cpu = "a faster CPU")],
  ["the timings", (r) => (r.timings.totalSeconds = 0.001)],
  ["the checkpoint's sha-256", (r) => (r.checkpoint.sha256 = "0".repeat(64))],
  ["the name", (r) => ((r as unknown as { name: string }).name = "other")],
  ["the test accuracy", (r) => (r.metrics.testAccuracy = 0.999)],
];

describe("whole-file integrity", () => {
  test.each(edits)("an edit of %s is refused by the reader and recomputed by the runner", async (_, edit) => {
    const dir = tempDir();
    const spec = tinySpec({ name: "d", epochs: 1 });
    const first = await runExperiment(spec, { resultsDir: dir });
    const json = JSON.parse(readFileSync(first.file, "utf8")) as Json;
    edit(json);
    writeFileSync(first.file, `${formatJson(json)}\n`);
    const refusal = `${first.file}: its digest does not match its contents`;
    expect(() => loadResults(first.file)).toThrow(refusal);
    await expect(evaluateCheckpoint(first.file)).rejects.toThrow(refusal);
    const said: string[] = [];
    const again = await runExperiment(spec, {
      resultsDir: dir,
      onProgress: (e) => {
        if (e.type === "data") said.push(e.message);
      },
    });
    expect(again.cached).toBe(false);
    expect(said).toContain(
      `${refusal} (its spec, metrics, status, cache key, environment or timings were edited after the run wrote them): recomputing it`,
    );
    expect(loadResults(first.file).metrics).toEqual(first.results.metrics);
  });

  test("the file as written loads; the digest is over what the file holds", async () => {
    const { results, file } = await runExperiment(tinySpec({ name: "d", epochs: 1 }), {
      resultsDir: tempDir(),
    });
    expect(loadResults(file)).toEqual(results);
  });
});
