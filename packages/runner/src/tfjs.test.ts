import { describe, expect, test } from "vitest";
import { tempDir, tinySpec } from "../test/helpers.js";
import { runExperiment } from "./experiment.js";
import { loadResults } from "./results.js";

/** max |a - b| / max(|a|, |b|) over two series. */
function maxRel(a: number[], b: number[]): number {
  expect(a).toHaveLength(b.length);
  return Math.max(...a.map((x, i) => Math.abs(x - b[i]) / Math.max(Math.abs(x), Math.abs(b[i]))));
}

describe("model mlp-tfjs", () => {
  test("trains the same model as mlp (same init, same batches) and writes the same results format", async () => {
    const dir = tempDir();
    const nabla = (await runExperiment(tinySpec({ name: "nabla" }), { resultsDir: dir })).results;
    const tfjs = (
      await runExperiment(tinySpec({ name: "tfjs", model: { kind: "mlp-tfjs", hiddenDims: [16] } }), {
        resultsDir: dir,
      })
    ).results;
    expect(loadResults(`${dir}/tfjs.json`)).toEqual(tfjs);
    expect(tfjs.environment.tfjsBackend).toMatch(/^(wasm|cpu)$/);
    expect(tfjs.environment.packages["@tensorflow/tfjs-core"]).toMatch(/^\d+\.\d+\.\d+/);
    // Independent gradients (autograd vs explicit backward) agree to float32 rounding over 30 steps.
    expect(
      maxRel(tfjs.metrics.trainLossPerStep as number[], nabla.metrics.trainLossPerStep as number[]),
    ).toBeLessThan(1e-4);
    expect(maxRel(tfjs.metrics.valLoss, nabla.metrics.valLoss)).toBeLessThan(1e-4);
    expect(tfjs.metrics.valAccuracy).toEqual(nabla.metrics.valAccuracy);
    expect(tfjs.metrics.testAccuracy).toBe(nabla.metrics.testAccuracy);
  });

  test("restores the best validation epoch's weights for the test accuracy", async () => {
    const spec = tinySpec({ lr: 0.05, seed: 2, epochs: 4, model: { kind: "mlp-tfjs", hiddenDims: [8] } });
    const full = (await runExperiment(spec, { resultsDir: tempDir() })).results.metrics;
    const bestEpoch = full.bestEpoch as number;
    expect(bestEpoch).toBeLessThan(4);
    const cut = (await runExperiment({ ...spec, epochs: bestEpoch }, { resultsDir: tempDir() })).results
      .metrics;
    expect(cut.lastTestAccuracy).toBe(full.testAccuracy);
    expect(cut.lastTestLoss).toBe(full.testLoss);
  });

  test("a scheduler still sets the lr per epoch", async () => {
    const spec = tinySpec({
      model: { kind: "mlp-tfjs", hiddenDims: [8] },
      epochs: 3,
      scheduler: { kind: "step", stepSize: 1, gamma: 0.5 },
    });
    const { results } = await runExperiment(spec, { resultsDir: tempDir() });
    expect(results.metrics.lr).toEqual([0.01, 0.005, 0.0025]);
  });
});
