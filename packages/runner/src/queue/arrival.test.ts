import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { tempDir, tinySpec } from "../../test/helpers.js";
import { checkpointPath } from "../checkpoint.js";
import { runExperiment } from "../experiment.js";
import { verifyCheckpoint } from "./arrival.js";

describe("a checkpoint arriving from the queue", () => {
  test("is taken only when it is the one its results name, of their cache key and best epoch", async () => {
    const { results, file } = await runExperiment(tinySpec({ name: "c", epochs: 2 }), {
      resultsDir: tempDir(),
    });
    const bytes = readFileSync(checkpointPath(file));
    const id = results.cacheKey;
    expect(verifyCheckpoint(bytes, results, id).metadata.epoch).toBe(String(results.metrics.bestEpoch));
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 1] ^= 1;
    expect(() => verifyCheckpoint(flipped, results, id)).toThrow(
      `job ${id}: the checkpoint from the queue is not the one its results name`,
    );
    const other = "f".repeat(64);
    expect(() => verifyCheckpoint(bytes, results, other)).toThrow(
      `job ${other}: the checkpoint from the queue is not the one of its results (its cacheKey is "${id}", expected "${other}")`,
    );
    const wider = {
      ...results,
      spec: { ...results.spec, model: { kind: "mlp" as const, hiddenDims: [17] } },
    };
    expect(() => verifyCheckpoint(bytes, wider, id)).toThrow(/does not fit the model of its spec/);
  });
});
