import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  evaluate64,
  finiteDifferenceGrads,
  meanLoss64,
  randomBatch,
  randomLayers,
  relDiff,
  toLayers64,
} from "../test/reference.js";
import { createTfjsMlp, type TfjsBackendName, TfjsMlpError } from "./index.js";

const backends: TfjsBackendName[] = ["wasm", "cpu"];

/** Random small architectures: input, 0-2 hidden layers, classes. */
const archArb = fc.record({
  dims: fc
    .tuple(
      fc.integer({ min: 1, max: 12 }),
      fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 0, maxLength: 2 }),
      fc.integer({ min: 2, max: 6 }),
    )
    .map(([i, hidden, c]) => [i, ...hidden, c]),
  batchSize: fc.integer({ min: 1, max: 9 }),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  lr: fc.double({ min: 0.05, max: 1, noNaN: true }),
});

describe.each(backends)("TfjsMlp on %s", (backend) => {
  it("reports its backend (wasm runs the SIMD build here)", async () => {
    const mlp = await createTfjsMlp({ layers: randomLayers([3, 2], 1), backend });
    expect(mlp.backendName).toBe(backend);
    expect(mlp.backendFallbackReason).toBeNull();
    expect(mlp.simd).toBe(backend === "wasm");
    mlp.dispose();
  });

  it("one SGD step: loss equals the float64 reference, parameters move by -lr * finite-difference gradient", async () => {
    await fc.assert(
      fc.asyncProperty(archArb, async ({ dims, batchSize, seed, lr }) => {
        const layers = randomLayers(dims, seed);
        const { x, labels } = randomBatch(dims[0], dims[dims.length - 1], batchSize, seed + 1);
        const ref = toLayers64(layers);
        const expectedLoss = meanLoss64(ref, x, labels, batchSize);
        const grads = finiteDifferenceGrads(ref, x, labels, batchSize);
        const mlp = await createTfjsMlp({ layers, backend });
        try {
          const loss = mlp.trainStep(x, labels, batchSize, lr);
          expect(Math.abs(loss - expectedLoss)).toBeLessThanOrEqual(1e-5 * Math.max(1, expectedLoss));
          const after = mlp.getWeights();
          after.forEach((l, i) => {
            const expectW = ref[i].weight.map((w, k) => w - lr * grads[i].weight[k]);
            const expectB = ref[i].bias.map((b, k) => b - lr * grads[i].bias[k]);
            // float32 parameters: the update agrees with the float64 one to float32 rounding.
            expect(relDiff(l.weight, expectW)).toBeLessThan(1e-5);
            expect(relDiff(l.bias, expectB)).toBeLessThan(1e-5);
            // the implied gradient (w - w')/lr against finite differences
            const impliedW = l.weight.map((w, k) => (layers[i].weight[k] - w) / lr);
            const err = impliedW.reduce((m, g, k) => Math.max(m, Math.abs(g - grads[i].weight[k])), 0);
            expect(err).toBeLessThan(1e-5 + 1e-6 / lr);
          });
        } finally {
          mlp.dispose();
        }
      }),
      { numRuns: 15, seed: 20261126 },
    );
  });

  it("evaluate returns the summed loss and the argmax hit count of the float64 reference", async () => {
    const dims = [20, 16, 7];
    const layers = randomLayers(dims, 5, 2);
    const { x, labels } = randomBatch(20, 7, 50, 6);
    const mlp = await createTfjsMlp({ layers, backend });
    const got = mlp.evaluate(x, labels, 50);
    const want = evaluate64(toLayers64(layers), x, labels, 50);
    expect(got.correct).toBe(want.correct);
    expect(Math.abs(got.lossSum - want.lossSum)).toBeLessThan(1e-5 * want.lossSum);
    // only the first batchSize rows count
    const first = evaluate64(toLayers64(layers), x, labels, 13);
    const part = mlp.evaluate(x, labels, 13);
    expect(part.correct).toBe(first.correct);
    expect(Math.abs(part.lossSum - first.lossSum)).toBeLessThan(1e-5 * first.lossSum);
    mlp.dispose();
  });

  it("keeps the number of live tensors constant across steps and epochs, and frees all on dispose", async () => {
    const dims = [30, 12, 10, 4];
    const before = (await createTfjsMlp({ layers: randomLayers([1, 2], 0), backend })).numTensors();
    const mlp = await createTfjsMlp({ layers: randomLayers(dims, 7), backend });
    const data = randomBatch(30, 4, 70, 8);
    const counts: number[] = [];
    for (let epoch = 0; epoch < 4; epoch++) {
      const lr = 0.1 / (epoch + 1);
      for (let start = 0; start < 70; start += 32) {
        const size = Math.min(32, 70 - start);
        mlp.trainStep(data.x.subarray(start * 30), data.labels.subarray(start), size, lr);
      }
      mlp.evaluate(data.x, data.labels, 70);
      mlp.setWeights(mlp.getWeights());
      counts.push(mlp.numTensors());
    }
    expect(new Set(counts).size).toBe(1);
    mlp.dispose();
    // the throwaway model above is still alive: one weight + one bias
    expect(mlp.numTensors()).toBe(before);
  });

  it("is deterministic: two models from the same weights and batches end bit-identical", async () => {
    const dims = [25, 9, 5];
    const runs: Float32Array[][] = [];
    for (let r = 0; r < 2; r++) {
      const mlp = await createTfjsMlp({ layers: randomLayers(dims, 11), backend });
      for (let s = 0; s < 10; s++) {
        const { x, labels } = randomBatch(25, 5, 16, 100 + s);
        mlp.trainStep(x, labels, 16, 0.2);
      }
      runs.push(mlp.getWeights().flatMap((l) => [l.weight, l.bias]));
      mlp.dispose();
    }
    for (const [i, a] of runs[0].entries()) expect(Array.from(a)).toEqual(Array.from(runs[1][i]));
  });

  it("uses the current lr: lr = 0 leaves the parameters unchanged, a later lr applies", async () => {
    const layers = randomLayers([6, 4, 3], 3);
    const { x, labels } = randomBatch(6, 3, 5, 4);
    const mlp = await createTfjsMlp({ layers, backend });
    mlp.trainStep(x, labels, 5, 0.5);
    const w1 = mlp.getWeights();
    mlp.trainStep(x, labels, 5, 0);
    expect(mlp.getWeights()).toEqual(w1);
    const ref = toLayers64(w1);
    const g = finiteDifferenceGrads(ref, x, labels, 5);
    mlp.trainStep(x, labels, 5, 0.25);
    const w3 = mlp.getWeights();
    expect(
      relDiff(
        w3[0].weight,
        ref[0].weight.map((w, k) => w - 0.25 * g[0].weight[k]),
      ),
    ).toBeLessThan(1e-5);
    mlp.dispose();
  });
});

describe("TfjsMlp wasm matMul modes", () => {
  it("the explicit-transpose shim and TF.js's stock kernel train to the same parameters", async () => {
    const dims = [40, 24, 6];
    const weights: Float32Array[][] = [];
    for (const wasmMatMul of ["explicit-transpose", "stock"] as const) {
      const mlp = await createTfjsMlp({ layers: randomLayers(dims, 21), backend: "wasm", wasmMatMul });
      expect(mlp.wasmMatMul).toBe(wasmMatMul);
      for (let s = 0; s < 5; s++) {
        const { x, labels } = randomBatch(40, 6, 32, 300 + s);
        mlp.trainStep(x, labels, 32, 0.3);
      }
      weights.push(mlp.getWeights().flatMap((l) => [l.weight, l.bias]));
      mlp.dispose();
    }
    for (const [i, w] of weights[0].entries()) expect(relDiff(w, weights[1][i])).toBeLessThan(1e-5);
    const cpu = await createTfjsMlp({ layers: randomLayers(dims, 21), backend: "cpu", wasmMatMul: "stock" });
    expect(cpu.wasmMatMul).toBe("stock");
    cpu.dispose();
  });
});

describe("TfjsMlp input checks", () => {
  const good = randomLayers([4, 3, 2], 1);

  it("rejects malformed layers with the field named", async () => {
    const bad = (layers: unknown) => createTfjsMlp({ layers: layers as never, backend: "cpu" });
    await expect(bad([])).rejects.toThrow(/createTfjsMlp: layers must be a non-empty array/);
    await expect(bad([{ ...good[0], weight: new Float32Array(5) }])).rejects.toThrow(
      /layers\[0\]\.weight must be a Float32Array of outDim\*inDim = 12, got length 5/,
    );
    await expect(bad([good[0], { ...good[1], bias: [0, 0] }])).rejects.toThrow(
      /layers\[1\]\.bias .* not a Float32Array/,
    );
    await expect(bad([good[0], good[0]])).rejects.toThrow(
      /layers\[1\]\.inDim = 4 must equal layers\[0\]\.outDim = 3/,
    );
    await expect(bad([{ ...good[0], inDim: 0 }])).rejects.toThrow(TfjsMlpError);
    await expect(createTfjsMlp({ layers: good, backend: "gpu" as never })).rejects.toThrow(/backend must be/);
    await expect(createTfjsMlp({ layers: good, wasmMatMul: "fast" as never })).rejects.toThrow(
      /wasmMatMul must be/,
    );
  });

  it("rejects bad batches, labels and learning rates", async () => {
    const mlp = await createTfjsMlp({ layers: good, backend: "cpu" });
    const { x, labels } = randomBatch(4, 2, 3, 2);
    expect(() => mlp.trainStep(x, labels, 4, 0.1)).toThrow(
      /x must be a Float32Array of at least batchSize\*inDim = 16/,
    );
    expect(() => mlp.trainStep(x, labels, 0, 0.1)).toThrow(/batchSize must be a positive integer/);
    expect(() => mlp.trainStep(x, Int32Array.of(0, 2, 1), 3, 0.1)).toThrow(
      /labels\[1\] = 2 is outside \[0, 2\)/,
    );
    expect(() => mlp.evaluate(x, Int32Array.of(0), 3)).toThrow(/labels must be an Int32Array of at least 3/);
    expect(() => mlp.trainStep(x, labels, 3, Number.NaN)).toThrow(/lr must be a finite number >= 0/);
    expect(() => mlp.setWeights(randomLayers([4, 5, 2], 1))).toThrow(
      /setWeights: layers\[0\] is 5x4, the model's layer is 3x4/,
    );
    mlp.dispose();
    expect(() => mlp.trainStep(x, labels, 3, 0.1)).toThrow(/has been disposed/);
  });

  it("refuses to run when the active TF.js backend changed under the model", async () => {
    const mlp = await createTfjsMlp({ layers: good, backend: "cpu" });
    const other = await createTfjsMlp({ layers: good, backend: "wasm" });
    const { x, labels } = randomBatch(4, 2, 3, 2);
    expect(() => mlp.trainStep(x, labels, 3, 0.1)).toThrow(
      /lives on TF.js backend "cpu" but the active backend is now "wasm"/,
    );
    expect(other.trainStep(x, labels, 3, 0.1)).toBeGreaterThan(0);
    mlp.dispose();
    other.dispose();
  });

  it("does not alias the caller's arrays", async () => {
    const layers = randomLayers([4, 3, 2], 9);
    const copy = layers.map((l) => ({ ...l, weight: l.weight.slice(), bias: l.bias.slice() }));
    const mlp = await createTfjsMlp({ layers, backend: "cpu" });
    layers[0].weight.fill(0);
    expect(mlp.getWeights()).toEqual(copy);
    mlp.getWeights()[0].weight.fill(0);
    expect(mlp.getWeights()).toEqual(copy);
    mlp.dispose();
  });
});
