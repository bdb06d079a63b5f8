import { readdirSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { tempDir, tinySpec } from "../test/helpers.js";
import { runExperiment } from "./experiment.js";
import { loadResults } from "./results.js";
import { runSweep } from "./sweep.js";
import type { ProgressEvent } from "./train.js";

// Sweeps run experiments in worker threads from dist/worker.js: these tests need the package built.
describe("runSweep", () => {
  test("runs a grid in worker threads, byte-identical to the main thread, then hits the cache", async () => {
    const dir = tempDir();
    // The assignment's layer sizes (batch 128, hidden 128), so the large-GEMM kernel (2 threads) is used too.
    const base = tinySpec({ name: "grid", batchSize: 128, model: { hiddenDims: [128] } });
    base.data = { source: "synthetic", trainCount: 612, testCount: 100, validationSize: 100, seed: 3 };
    const sweep = { ...base, grid: { lr: [0.01, 0.03] } };
    const events: ProgressEvent[] = [];
    const first = await runSweep(sweep, { resultsDir: dir, workers: 2, onProgress: (e) => events.push(e) });
    expect(first.failures).toEqual([]);
    expect(first.cancelled).toEqual([]);
    expect(first.outcomes.map((o) => [o.results.name, o.cached])).toEqual([
      ["grid-lr=0.01", false],
      ["grid-lr=0.03", false],
    ]);
    expect(readdirSync(dir).sort()).toEqual([
      "grid-lr=0.01.json",
      "grid-lr=0.01.safetensors",
      "grid-lr=0.03.json",
      "grid-lr=0.03.safetensors",
    ]);
    expect(events.filter((e) => e.type === "epoch")).toHaveLength(6);

    // Determinism across threads: the same experiment run here gives the same bytes (timings aside).
    const mainThread = await runExperiment(
      { ...base, name: "grid-lr=0.03", lr: 0.03 },
      {
        resultsDir: tempDir(),
      },
    );
    const inWorker = loadResults(first.outcomes[1].file);
    expect(inWorker.environment.gemm).toEqual(mainThread.results.environment.gemm);
    expect(JSON.stringify(inWorker.metrics)).toBe(JSON.stringify(mainThread.results.metrics));
    expect(inWorker.status).toBe(mainThread.results.status);
    expect(inWorker.spec).toEqual(mainThread.results.spec);
    // Same key too (unless another process rebuilt a package's dist/ between the two runs).
    expect(inWorker.cacheKey).toBe(mainThread.results.cacheKey);

    const second = await runSweep(sweep, { resultsDir: dir, workers: 2 });
    expect(second.outcomes.map((o) => o.cached)).toEqual([true, true]);
  });

  test("stopping keeps the finished experiments and leaves no partial file", async () => {
    const dir = tempDir();
    const controller = new AbortController();
    const sweep = [
      tinySpec({ name: "stop-seed=1", seed: 1, epochs: 1 }),
      tinySpec({ name: "stop-seed=2", seed: 2, epochs: 40 }),
      tinySpec({ name: "stop-seed=3", seed: 3, epochs: 40 }),
    ];
    let firstDone = false;
    const outcome = await runSweep(sweep, {
      resultsDir: dir,
      workers: 1,
      signal: controller.signal,
      onProgress: (e) => {
        // Let the first experiment (1 epoch) finish, stop during the second one.
        if (e.type === "epoch" && e.name === "stop-seed=2" && e.epoch === 2) controller.abort();
        if (e.type === "done") firstDone = true;
      },
    });
    expect(firstDone).toBe(true);
    expect(outcome.outcomes.map((o) => o.results.name)).toEqual(["stop-seed=1"]);
    expect(outcome.cancelled).toEqual(["stop-seed=2", "stop-seed=3"]);
    expect(outcome.failures).toEqual([]);
    // The stopped member keeps the state of its completed epoch; the one never started has none.
    expect(readdirSync(dir).sort()).toEqual([
      ".stop-seed=2.state.safetensors",
      "stop-seed=1.json",
      "stop-seed=1.safetensors",
    ]);
  });

  test("an experiment that fails is reported, the others finish", async () => {
    const dir = tempDir();
    const specs = [
      tinySpec({ name: "fine" }),
      tinySpec({ name: "nodata", data: { source: "cifar10", dir: "/nonexistent/cifar" } }),
    ];
    const outcome = await runSweep(specs, { resultsDir: dir, workers: 2 });
    expect(outcome.outcomes.map((o) => o.results.name)).toEqual(["fine"]);
    expect(outcome.failures).toHaveLength(1);
    expect(outcome.failures[0].name).toBe("nodata");
    expect(outcome.failures[0].message).toContain("/nonexistent/cifar");
    expect(outcome.failures[0].user).toBe(true);
  });
});
