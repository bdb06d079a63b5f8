import { buildSequential, type Linear, mlpLayers } from "@nabla/nn";
import { createTfjsMlp, maxRelDiff, TfjsMlpError } from "@nabla/tfjs";
import { describe, expect, it } from "vitest";
import { crossCheck, linearWeights } from "./crosscheck.js";

describe.each(["wasm", "cpu"] as const)("crossCheck against @nabla/nn on %s", (backend) => {
  it("one SGD step gives nabla's parameters and 20 steps give nabla's losses, within 1e-5 relative", async () => {
    const r = await crossCheck({
      seed: 3,
      steps: 20,
      batchSize: 24,
      dims: [48, 32, 16, 10],
      lr: 0.05,
      backend,
    });
    expect(r.backend).toBe(backend);
    expect(r.lossesTfjs).toHaveLength(20);
    expect(r.maxParamRelDiffAfterOneStep).toBeLessThan(1e-5);
    expect(r.maxLossRelDiffOver20Steps).toBeLessThan(1e-5);
    expect(r.maxParamRelDiffAfterAllSteps).toBeLessThan(1e-5);
    // the parameters really moved: the comparison is not of two untouched copies
    expect(new Set(r.lossesNabla).size).toBe(20);
  });

  it("agrees at the homework's size (3072-128-10, batch 128)", async () => {
    const r = await crossCheck({ seed: 1, steps: 2, backend });
    expect(r.dims).toEqual([3072, 128, 10]);
    expect(r.maxParamRelDiffAfterOneStep).toBeLessThan(1e-5);
    expect(r.maxLossRelDiffOver20Steps).toBeLessThan(1e-5);
  });
});

describe("cross-check plumbing", () => {
  it("takes the nabla MLP's weights layer by layer (out x in, row-major)", async () => {
    const nabla = buildSequential(mlpLayers([4], 3), { inputDim: 5, seed: 9 });
    const layers = linearWeights(nabla);
    expect(layers.map((l) => [l.outDim, l.inDim])).toEqual([
      [4, 5],
      [3, 4],
    ]);
    expect(layers[0].weight[1 * 5 + 2]).toBe((nabla.modules[0] as Linear).weight.get(1, 2));
    const tfjs = await createTfjsMlp({ layers, backend: "cpu" });
    expect(tfjs.getWeights()).toEqual(layers);
    tfjs.dispose();
  });

  it("the parameter measure detects a 1e-4 relative perturbation", () => {
    const a = Float32Array.of(1, -2, 0.5, 0);
    const b = a.slice();
    b[2] += 2e-4;
    expect(maxRelDiff(a, a)).toBe(0);
    expect(maxRelDiff(b, a)).toBeGreaterThan(9e-5);
  });

  it("rejects bad options with the field named", async () => {
    await expect(crossCheck({ steps: 0 })).rejects.toThrow(TfjsMlpError);
    await expect(crossCheck({ dims: [4] })).rejects.toThrow(/crossCheck: dims must be/);
    await expect(crossCheck({ lr: -1 })).rejects.toThrow(/crossCheck: lr must be a finite number > 0/);
  });
});
