/**
 * The "Extending nabla" promise: a layer, an optimizer and a dataset added from user code alone, through the
 * public registries of @nabla/nn, @nabla/optim and @nabla/data, then used by a spec and trained by the runner.
 */
import { arrayDataset, type DatasetSource, registerDataset } from "@nabla/data";
import { type Parameter, scale, type Tensor, zeros } from "@nabla/ndarray";
import { ModuleBase, registerLayer } from "@nabla/nn";
import { Optimizer, type OptimizerStateBase, registerOptimizer } from "@nabla/optim";
import { describe, expect, test } from "vitest";
import { z } from "zod";
import { tempDir } from "../test/helpers.js";
import { evaluateCheckpoint } from "./evaluate.js";
import { runExperiment } from "./experiment.js";
import { runSweep } from "./sweep.js";

/** y = 2x, elementwise (a layer without parameters). */
class Double extends ModuleBase {
  forward(x: Tensor): Tensor {
    return scale(zeros([...x.shape]), x, 2);
  }
  backward(dY: Tensor): Tensor {
    return scale(zeros([...dY.shape]), dY, 2);
  }
}

/** signSGD: p -= lr * sign(grad). */
class SignSGD extends Optimizer {
  constructor(params: Parameter[], lr: number) {
    super("SignSGD", params, lr);
  }

  stateDict(): OptimizerStateBase {
    return { type: "SignSGD", lr: this.lr, initialLr: this.initialLr ?? null };
  }

  loadStateDict(state: unknown): void {
    this.restoreHeader(this.checkStateHeader({ state: {}, ...(state as object) }));
  }

  step(): void {
    for (const p of this.params) {
      const w = p.value.data;
      const g = p.grad.data;
      for (let i = 0; i < w.length; i++) w[i] -= this.lr * Math.sign(g[i]);
    }
  }
}

/** Two gaussian blobs in 1×6×6 "images", 3 classes. */
function blobs(count: number, seed: number) {
  const x = new Float32Array(count * 36);
  const labels = new Int32Array(count);
  let s = seed;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) | 0;
    return (s >>> 0) / 2 ** 32;
  };
  for (let i = 0; i < count; i++) {
    labels[i] = i % 3;
    for (let k = 0; k < 36; k++) x[i * 36 + k] = (k % 3 === labels[i] ? 1.5 : 0) + rand() - 0.5;
  }
  return { x, labels };
}

const blobSource: DatasetSource<{ count: number; splitSeed: number; validationSize: number }> = {
  name: "blobs",
  schema: z.strictObject({
    count: z.number().int().positive().default(600),
    splitSeed: z.number().int().default(1),
    validationSize: z.number().int().positive().default(100),
  }),
  info: (c) => ({
    featureShape: [1, 6, 6],
    classNames: ["a", "b", "c"],
    splitSizes: { train: c.count - c.validationSize, validation: c.validationSize, test: 150 },
  }),
  load: async (c) =>
    arrayDataset({
      name: "blobs",
      featureShape: [1, 6, 6],
      classNames: ["a", "b", "c"],
      train: blobs(c.count, 1),
      test: blobs(150, 2),
      holdout: { seed: c.splitSeed, validationSize: c.validationSize },
    }),
};

describe("extending nabla from user code", () => {
  registerLayer("double", {
    schema: z.strictObject({}),
    build: () => new Double(),
  });
  registerOptimizer({
    kind: "signsgd",
    schema: z.strictObject({ kind: z.literal("signsgd"), lr: z.number().min(0) }),
    create: (config, params) => new SignSGD(params, config.lr),
  });
  registerDataset(blobSource);

  test("a spec uses the new layer, optimizer and dataset; the runner trains it and its checkpoint reloads", async () => {
    const dir = tempDir();
    const { results, file } = await runExperiment(
      {
        name: "extended",
        model: { layers: [{ linear: 12 }, "double", "relu", { linear: 3 }] },
        optimizer: { kind: "signsgd" },
        lr: 0.002,
        batchSize: 25,
        epochs: 4,
        data: { source: "blobs" },
      },
      { resultsDir: dir },
    );
    expect(results.status).toBe("ok");
    expect(results.metrics.stepsPerEpoch).toBe(20);
    expect(results.metrics.trainLoss[3]).toBeLessThan(results.metrics.trainLoss[0]);
    expect(results.metrics.testAccuracy).toBeGreaterThan(0.8);
    expect((await evaluateCheckpoint(file)).recorded?.identical).toBe(true);
  });

  test("spec errors name the registries' kinds, before any data is read", async () => {
    const dir = tempDir();
    await expect(
      runExperiment(
        { name: "x", model: { layers: [{ linear: 4 }, "triple", { linear: 3 }] }, data: { source: "blobs" } },
        { resultsDir: dir },
      ),
    ).rejects.toThrow(/model\.layers\[1\]: unknown layer "triple"; expected one of .*double/);
    await expect(
      runExperiment(
        { name: "x", optimizer: { kind: "rmsprop" }, data: { source: "blobs" } },
        { resultsDir: dir },
      ),
    ).rejects.toThrow(/optimizer\.kind: expected kind to be one of .*"signsgd"/);
    await expect(
      runExperiment(
        { name: "x", model: { layers: [{ linear: 4 }] }, data: { source: "blobs" } },
        { resultsDir: dir },
      ),
    ).rejects.toThrow(
      "model.layers[0]: expected the last layer to give 3 outputs (the classes of blobs), got [4]",
    );
    await expect(
      runExperiment({ name: "x", data: { source: "mnist" } }, { resultsDir: dir }),
    ).rejects.toThrow(/data\.source: .*"blobs"/);
  });
});

describe("registrations in sweep workers", () => {
  test("worker threads import the named modules, so a sweep can use a layer registered there", async () => {
    const registrations = new URL("../test/fixtures/registrations.mjs", import.meta.url).href;
    await import(registrations); // this thread validates the spec, so it needs the layer too
    const dir = tempDir();
    const spec = {
      name: "halved",
      model: { layers: [{ linear: 8 }, "halve", "relu", { linear: 10 }] },
      epochs: 1,
      batchSize: 50,
      data: { source: "synthetic", trainCount: 300, testCount: 50, validationSize: 50 },
      grid: { seed: [1, 2] },
    };
    const without = await runSweep(spec, { resultsDir: dir, workers: 2 });
    expect(without.failures.map((f) => f.message)).toEqual([
      expect.stringMatching(/unknown layer "halve"/),
      expect.stringMatching(/unknown layer "halve"/),
    ]);
    const withModules = await runSweep(spec, { resultsDir: dir, workers: 2, modules: [registrations] });
    expect(withModules.failures).toEqual([]);
    expect(withModules.outcomes.map((o) => o.results.status)).toEqual(["ok", "ok"]);
  });
});
