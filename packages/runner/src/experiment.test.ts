import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gemmKernelInfo } from "@nabla/ndarray";
import { describe, expect, test } from "vitest";
import { tempDir, tinySpec, withoutTimings } from "../test/helpers.js";
import { CancelledError } from "./errors.js";
import { runExperiment } from "./experiment.js";
import { cacheKey } from "./fingerprint.js";
import { loadResults, resultsSchema } from "./results.js";
import type { ProgressEvent } from "./train.js";

describe("runExperiment", () => {
  test("an end-to-end run on synthetic data writes a results file that validates", async () => {
    const dir = tempDir();
    const events: ProgressEvent[] = [];
    const { results, file, cached } = await runExperiment(tinySpec(), {
      resultsDir: dir,
      onProgress: (e) => events.push(e),
    });
    expect(cached).toBe(false);
    expect(file).toBe(join(dir, "tiny.json"));
    const onDisk = JSON.parse(readFileSync(file, "utf8"));
    expect(resultsSchema.safeParse(onDisk).success).toBe(true);
    expect(loadResults(file)).toEqual(results);
    const gemm = gemmKernelInfo();
    expect(results.cacheKey).toBe(cacheKey(results.spec, `${gemm.kernel}/${gemm.isa}`));
    expect(results.cacheKey).not.toBe(cacheKey(results.spec, `${gemm.kernel}/another-isa`));
    const m = results.metrics;
    expect(results.status).toBe("ok");
    expect(m.stepsPerEpoch).toBe(10); // 500 train images / 50, last partial batch dropped
    for (const series of [m.trainLoss, m.valAccuracy, m.valLoss, m.lr]) expect(series).toHaveLength(3);
    expect(m.trainLossPerStep).toHaveLength(30);
    expect(m.lr).toEqual([0.01, 0.01, 0.01]);
    // The epoch mean is the mean of that epoch's steps.
    const firstEpoch = m.trainLossPerStep.slice(0, 10) as number[];
    expect(m.trainLoss[0]).toBeCloseTo(firstEpoch.reduce((a, b) => a + b, 0) / 10, 12);
    // It learns: the synthetic classes are separable.
    expect(m.trainLoss[2]).toBeLessThan(m.trainLoss[0]);
    expect(m.testAccuracy).toBeGreaterThan(0.5);
    expect(m.bestEpoch).toBe(m.valAccuracy.indexOf(Math.max(...m.valAccuracy)) + 1);
    expect(results.timings.epochSeconds).toHaveLength(3);
    expect(events.filter((e) => e.type === "epoch")).toHaveLength(3);
    expect(events.at(-1)).toMatchObject({ type: "done", cached: false, status: "ok" });
    expect(readdirSync(dir)).toEqual(["tiny.json", "tiny.safetensors"]); // no temp file left behind
  });

  test("the test accuracy is that of the best validation epoch", async () => {
    // Independent check: a run stopped at the best epoch has, as its last-epoch model, the best model.
    const spec = tinySpec({ lr: 0.05, seed: 2, epochs: 4, model: { hiddenDims: [8] } });
    const full = (await runExperiment(spec, { resultsDir: tempDir() })).results.metrics;
    const bestEpoch = full.bestEpoch as number;
    // This fixture's best epoch is not the last, so best and last models differ.
    expect(bestEpoch).toBeLessThan(4);
    expect(full.testLoss).not.toBe(full.lastTestLoss);
    const cut = (await runExperiment({ ...spec, epochs: bestEpoch }, { resultsDir: tempDir() })).results
      .metrics;
    expect(cut.lastTestAccuracy).toBe(full.testAccuracy);
    expect(cut.lastTestLoss).toBe(full.testLoss);
    expect(cut.valAccuracy).toEqual(full.valAccuracy.slice(0, bestEpoch));
  });

  test("cache: a hit trains nothing, a changed spec or --force reruns", async () => {
    const dir = tempDir();
    const first = await runExperiment(tinySpec(), { resultsDir: dir });
    const mtime = statSync(first.file).mtimeMs;
    const again = await runExperiment(tinySpec({ description: "renamed words do not count" }), {
      resultsDir: dir,
    });
    expect(again.cached).toBe(true);
    expect(again.results).toEqual(first.results);
    expect(statSync(first.file).mtimeMs).toBe(mtime);

    const changed = await runExperiment(tinySpec({ lr: 0.02 }), { resultsDir: dir });
    expect(changed.cached).toBe(false);
    expect(changed.results.cacheKey).not.toBe(first.results.cacheKey);

    const forced = await runExperiment(tinySpec({ lr: 0.02 }), { resultsDir: dir, force: true });
    expect(forced.cached).toBe(false);
    expect(withoutTimings(forced.results)).toEqual(withoutTimings(changed.results));

    // A corrupt results file is a miss, not a crash.
    writeFileSync(first.file, "{ not json");
    expect((await runExperiment(tinySpec({ lr: 0.02 }), { resultsDir: dir })).cached).toBe(false);
  });

  test("a huge learning rate is recorded as diverged, not thrown", async () => {
    const { results } = await runExperiment(tinySpec({ name: "huge", lr: 1e6 }), { resultsDir: tempDir() });
    expect(results.status).toBe("diverged");
    const m = results.metrics;
    expect(m.divergedAtEpoch).toBeGreaterThanOrEqual(1);
    expect(m.trainLoss).toHaveLength((m.divergedAtEpoch as number) - 1);
    expect(m.trainLossPerStep.at(-1)).toBeNull();
    expect(m.lastTestAccuracy).toBeNull();
  });

  test("same spec => byte-identical metrics", async () => {
    const a = await runExperiment(tinySpec(), { resultsDir: tempDir() });
    const b = await runExperiment(tinySpec(), { resultsDir: tempDir() });
    expect(JSON.stringify(withoutTimings(b.results))).toBe(JSON.stringify(withoutTimings(a.results)));
  });

  test("a multistep scheduler sets the lr per epoch", async () => {
    const spec = tinySpec({
      epochs: 4,
      lr: 0.01,
      scheduler: { kind: "multistep", milestones: [2, 3], gamma: 0.1 },
    });
    const { results } = await runExperiment(spec, { resultsDir: tempDir() });
    expect(results.metrics.lr.map((x) => Number(x.toPrecision(10)))).toEqual([0.01, 0.01, 0.001, 0.0001]);
  });

  test("a one-cycle scheduler steps after every batch (PyTorch's cosine phases)", async () => {
    // 500 training images in batches of 50: 10 steps per epoch, 30 in all; the peak is at step 0.3·30 − 1 = 8.
    const spec = tinySpec({ epochs: 3, scheduler: { kind: "onecycle", maxLr: 0.1 } });
    const { results } = await runExperiment(spec, { resultsDir: tempDir() });
    const initial = 0.1 / 25;
    const anneal = (from: number, to: number, pct: number) =>
      to + ((from - to) / 2) * (1 + Math.cos(Math.PI * pct));
    const at = (step: number) =>
      step <= 8 ? anneal(initial, 0.1, step / 8) : anneal(0.1, initial / 1e4, (step - 8) / (29 - 8));
    const expected = [at(0), at(10), at(20)];
    expect(results.metrics.lr).toHaveLength(3);
    for (const [i, lr] of results.metrics.lr.entries()) expect(lr).toBeCloseTo(expected[i], 12);
  });

  test("augmentation changes the training, and the same seed gives the same bits", async () => {
    const augment = [{ randomCrop: { padding: 4 } }, "horizontalFlip"];
    const plain = await runExperiment(tinySpec(), { resultsDir: tempDir() });
    const spec = tinySpec({ data: { ...tinySpec().data, augment } as never });
    const a = await runExperiment(spec, { resultsDir: tempDir() });
    const b = await runExperiment(spec, { resultsDir: tempDir() });
    expect(JSON.stringify(withoutTimings(b.results))).toBe(JSON.stringify(withoutTimings(a.results)));
    expect(a.results.metrics.trainLoss).not.toEqual(plain.results.metrics.trainLoss);
    expect(a.results.spec.data.augment).toEqual([
      { randomCrop: { padding: 4 } },
      { horizontalFlip: { p: 0.5 } },
    ]);
  });

  test("an aborted signal stops the run and writes no results, only the state of its completed epoch", async () => {
    const dir = tempDir();
    const controller = new AbortController();
    const run = runExperiment(tinySpec({ epochs: 50 }), {
      resultsDir: dir,
      signal: controller.signal,
      onProgress: (e) => {
        if (e.type === "epoch" && e.epoch === 1) controller.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    expect(readdirSync(dir)).toEqual([".tiny.state.safetensors"]);
  });
});
