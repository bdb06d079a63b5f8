/** The report prints only numbers the runner wrote: a results file edited by hand is refused, naming it. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { makeFixture, writeFixture } from "../test/fixture-results.js";
import { renderHw1 } from "./render.js";

const work = mkdtempSync(join(tmpdir(), "nabla-hw1-digest-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

it("a hand-edited accuracy (digest intact) is refused with the file named", async () => {
  const resultsDir = join(work, "results");
  writeFixture(resultsDir, makeFixture());
  const file = join(resultsDir, `${makeFixture().q3[0].name}.json`);
  const json = JSON.parse(readFileSync(file, "utf8"));
  json.metrics.testAccuracy = 0.9;
  writeFileSync(file, JSON.stringify(json, null, 2));
  await expect(
    renderHw1({ resultsDir, experimentsDir: "/nonexistent", outDir: join(work, "out"), pdf: false }),
  ).rejects.toThrow(/q3-seed=\d+\.json: its digest does not match its contents/);
  const task = join(resultsDir, "q4a-crosscheck.json");
  const cross = JSON.parse(readFileSync(task, "utf8"));
  json.metrics.testAccuracy = makeFixture().q3[0].metrics.testAccuracy;
  writeFileSync(file, JSON.stringify({ ...json, digest: makeFixture().q3[0].digest }, null, 2));
  cross.result.maxParamRelDiffAfterOneStep = 0;
  writeFileSync(task, JSON.stringify(cross, null, 2));
  await expect(
    renderHw1({ resultsDir, experimentsDir: "/nonexistent", outDir: join(work, "out"), pdf: false }),
  ).rejects.toThrow(/q4a-crosscheck\.json: its digest does not match its contents/);
});
