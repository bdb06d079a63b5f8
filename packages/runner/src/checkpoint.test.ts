import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeSafetensors } from "@nabla/nn";
import { describe, expect, test } from "vitest";
import { tempDir, tinySpec } from "../test/helpers.js";
import { checkpointPath } from "./checkpoint.js";
import { evaluateCheckpoint } from "./evaluate.js";
import { runExperiment } from "./experiment.js";

// kind "mlp" with layers is the older form of kind "sequential" (still accepted).
const layered = {
  kind: "mlp" as const,
  layers: [{ linear: 24 }, { batchnorm1d: {} }, "relu", { dropout: 0.2 }, { linear: 10 }],
};

describe("checkpoints", () => {
  test("the best-validation model is written beside the results; nabla eval reproduces the test accuracy bit for bit", async () => {
    const dir = tempDir();
    const { results, file } = await runExperiment(tinySpec({ name: "bn", model: layered }), {
      resultsDir: dir,
    });
    const checkpoint = checkpointPath(file);
    const { tensors, metadata } = decodeSafetensors(readFileSync(checkpoint));
    expect(Object.keys(tensors).sort()).toEqual(
      [
        "0.weight",
        "0.bias",
        "1.weight",
        "1.bias",
        "1.running_mean",
        "1.running_var",
        "1.num_batches_tracked",
        "4.weight",
        "4.bias",
      ].sort(),
    );
    expect(metadata).toMatchObject({
      cacheKey: results.cacheKey,
      name: "bn",
      epoch: String(results.metrics.bestEpoch),
    });
    expect(JSON.parse(metadata.layers)).toEqual(
      results.spec.model.kind === "sequential" ? results.spec.model.layers : null,
    );
    const test = await evaluateCheckpoint(file);
    expect(test.recorded).toEqual({
      accuracy: results.metrics.testAccuracy,
      loss: results.metrics.testLoss,
      identical: true,
    });
    expect(test.accuracy).toBe(results.metrics.testAccuracy);
    const validation = await evaluateCheckpoint(checkpoint, { split: "validation" });
    expect(validation.accuracy).toBe(results.metrics.valAccuracy[(results.metrics.bestEpoch as number) - 1]);
    expect(validation.recorded).toBeUndefined();
  });

  test("the TF.js model's checkpoint uses the nabla names and reproduces its test accuracy too", async () => {
    const dir = tempDir();
    const spec = tinySpec({ name: "tf", epochs: 2, model: { kind: "mlp-tfjs", hiddenDims: [16] } });
    const { results, file } = await runExperiment(spec, { resultsDir: dir });
    const { tensors } = decodeSafetensors(readFileSync(checkpointPath(file)));
    expect(Object.keys(tensors).sort()).toEqual(["0.bias", "0.weight", "2.bias", "2.weight"]);
    expect((await evaluateCheckpoint(file)).recorded?.identical).toBe(true);
    expect(results.status).toBe("ok");
  });

  test("a missing or foreign checkpoint is a one-line error saying how to get the right one", async () => {
    const dir = tempDir();
    const a = await runExperiment(tinySpec({ name: "a", epochs: 1 }), { resultsDir: dir });
    const b = await runExperiment(tinySpec({ name: "b", epochs: 1, seed: 8 }), { resultsDir: dir });
    writeFileSync(checkpointPath(a.file), readFileSync(checkpointPath(b.file)));
    await expect(evaluateCheckpoint(a.file)).rejects.toThrow(
      /a\.safetensors: belongs to another run than .*a\.json/,
    );
    await expect(evaluateCheckpoint(join(dir, "none.json"))).rejects.toThrow(
      "no results file beside the checkpoint",
    );
    writeFileSync(join(dir, "c.json"), readFileSync(b.file, "utf8"));
    await expect(evaluateCheckpoint(join(dir, "c.json"))).rejects.toThrow(
      /c\.safetensors: no checkpoint for b \(checkpoints are outputs, not committed\): retrain it/,
    );
  });
});
