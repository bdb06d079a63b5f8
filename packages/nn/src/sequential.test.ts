import { fromTypedArray, Rng, type Tensor, zeros } from "@nabla/ndarray";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normalTensor, PROPERTY, randomLabels } from "../test/helpers.js";
import { ReLU } from "./activations.js";
import { Linear } from "./linear.js";
import { SoftmaxCrossEntropy } from "./losses.js";
import { accuracy } from "./metrics.js";
import type { Module } from "./module.js";
import { checkModuleGradients, checkNetworkGradients } from "./module-checks.js";
import { MLP, Sequential } from "./sequential.js";

/** Smallest |pre-activation| feeding any ReLU of the MLP for input x. */
function closestToKink(mlp: MLP, x: Tensor): number {
  let closest = Number.POSITIVE_INFINITY;
  let h = x;
  for (let k = 0; k < mlp.layers.length; k++) {
    h = mlp.layers[k].forward(h);
    if (k < mlp.activations.length) {
      for (let i = 0; i < h.size; i++) closest = Math.min(closest, Math.abs(h.data[i]));
      h = mlp.activations[k].forward(h);
    }
  }
  return closest;
}

describe("MLP structure and initialisation", () => {
  it("builds Linear/ReLU layers with PyTorch-style parameter names", () => {
    const mlp = new MLP(6, [5, 4], 3, { seed: 1 });
    expect(mlp.layers.map((l) => [l.inDim, l.outDim])).toEqual([
      [6, 5],
      [5, 4],
      [4, 3],
    ]);
    expect(mlp.activations).toHaveLength(2);
    expect(mlp.parameters().map((p) => p.name)).toEqual([
      "layers.0.weight",
      "layers.0.bias",
      "layers.1.weight",
      "layers.1.bias",
      "layers.2.weight",
      "layers.2.bias",
    ]);
    expect(mlp.parameters()[2].value).toBe(mlp.layers[1].weight);
    expect(mlp.layers.map((l) => l.computeInputGrad)).toEqual([false, true, true]);
    expect(new MLP(4, [], 2, { seed: 0 }).layers).toHaveLength(1); // no hidden layer: logistic regression
  });

  it("draws weights from one Rng(seed) in layer order, row-major; layer 0 std √(1/in), others √(2/in)", () => {
    const mlp = new MLP(7, [5, 4], 3, { seed: 42, dtype: "float64" });
    const rng = new Rng(42);
    const dims = [7, 5, 4, 3];
    for (let k = 0; k < 3; k++) {
      const expected = zeros([dims[k + 1], dims[k]], "float64");
      rng.fillNormal(expected, 0, Math.sqrt((k === 0 ? 1 : 2) / dims[k]));
      expect(Array.from(mlp.layers[k].weight.data)).toEqual(Array.from(expected.data));
      expect(mlp.layers[k].bias.data.every((v) => v === 0)).toBe(true);
    }
    const again = new MLP(7, [5, 4], 3, { seed: 42, dtype: "float64" });
    expect(Array.from(again.layers[2].weight.data)).toEqual(Array.from(mlp.layers[2].weight.data));
  });

  it("returns null from backward (first layer skips dX) unless computeInputGrad is set", () => {
    const rng = new Rng(0);
    const x = normalTensor(rng, 2, 4, "float32");
    const mlp = new MLP(4, [3], 2, { seed: 0 });
    mlp.forward(x);
    expect(mlp.backward(zeros([2, 2]))).toBeNull();
    const withInput = new MLP(4, [3], 2, { seed: 0, computeInputGrad: true });
    withInput.forward(x);
    expect(withInput.backward(zeros([2, 2]))?.shape).toEqual([2, 4]);
  });
});

describe("MLP gradients", () => {
  it("every parameter gradient of loss(MLP(x)) matches central differences (< 1e-6, float64)", () => {
    const shape = fc.record({
      batch: fc.integer({ min: 1, max: 5 }),
      inDim: fc.integer({ min: 1, max: 6 }),
      hidden: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 }),
      classes: fc.integer({ min: 2, max: 5 }),
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    });
    fc.assert(
      fc.property(shape, (s) => {
        const mlp = new MLP(s.inDim, s.hidden, s.classes, { seed: s.seed, dtype: "float64" });
        const rng = new Rng(s.seed + 1);
        // Random biases: with zero biases a dead unit feeds an exact 0 to the next ReLU, a kink
        // where the derivative does not exist and finite differences are meaningless.
        for (const layer of mlp.layers) rng.fillNormal(layer.bias, 0, 0.5);
        const x = normalTensor(rng, s.batch, s.inDim);
        // Central differences straddle a kink when a pre-activation is within ~h·|input| of 0.
        fc.pre(closestToKink(mlp, x) > 1e-3);
        const checks = checkNetworkGradients(
          mlp,
          new SoftmaxCrossEntropy(),
          x,
          randomLabels(rng, s.batch, s.classes),
        );
        expect(checks).toHaveLength(2 * (s.hidden.length + 1));
        for (const c of checks) expect(c.maxRelativeError, c.wrt).toBeLessThan(1e-6);
      }),
      PROPERTY,
    );
  });

  it("input gradient and parameter gradients of an MLP with computeInputGrad match (module check)", () => {
    const mlp = new MLP(5, [4, 3], 2, { seed: 9, dtype: "float64", computeInputGrad: true });
    const rng = new Rng(10);
    for (const layer of mlp.layers) rng.fillNormal(layer.bias, 0, 0.5);
    const x = normalTensor(rng, 3, 5);
    expect(closestToKink(mlp, x)).toBeGreaterThan(1e-3);
    const checks = checkModuleGradients(mlp, x, { seed: 3 });
    expect(checks[0].wrt).toBe("input");
    for (const c of checks) expect(c.maxRelativeError, c.wrt).toBeLessThan(1e-6);
  });

  it("Sequential chains modules and prefixes parameter names with the index", () => {
    const rng = new Rng(4);
    const seq = new Sequential([
      new Linear(3, 4, { rng, dtype: "float64" }),
      new ReLU(),
      new Linear(4, 2, { rng, dtype: "float64" }),
    ]);
    expect(seq.parameters().map((p) => p.name)).toEqual(["0.weight", "0.bias", "2.weight", "2.bias"]);
    const x = normalTensor(rng, 2, 3);
    const d = x.data;
    for (let i = 0; i < d.length; i++) d[i] += d[i] >= 0 ? 0.5 : -0.5;
    for (const c of checkModuleGradients(seq, x)) expect(c.maxRelativeError, c.wrt).toBeLessThan(1e-6);
    const broken = new Sequential([new ReLU(), new Linear(2, 2, { rng, computeInputGrad: false })]);
    broken.forward(zeros([1, 2]));
    expect(() => broken.backward(zeros([1, 2]))).toThrow(/module 1 returned no input gradient/);
  });
});

/** Three well-separated Gaussian blobs in 4-D, float32 like real training data. */
function blobs(count: number, seed: number): { x: Tensor; y: Int32Array } {
  const rng = new Rng(seed);
  const centres = [
    [3, 0, 0, 0],
    [0, 3, 0, 0],
    [0, 0, 3, -3],
  ];
  const data = new Float32Array(count * 4);
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    y[i] = i % 3;
    for (let j = 0; j < 4; j++) data[i * 4 + j] = centres[y[i]][j] + 0.5 * rng.normal();
  }
  return { x: fromTypedArray(data, [count, 4]), y };
}

/** One SGD step written out here (no optimizer package): θ ← θ − lr·∇θ. */
function sgdStep(model: Module, lr: number): void {
  for (const p of model.parameters()) {
    const v = p.value.data;
    const g = p.grad.data;
    for (let i = 0; i < v.length; i++) v[i] -= lr * g[i];
  }
}

function trainStep(mlp: MLP, loss: SoftmaxCrossEntropy, x: Tensor, y: Int32Array, lr: number): number {
  mlp.zeroGrad();
  const value = loss.forward(mlp.forward(x), y);
  mlp.backward(loss.backward());
  sgdStep(mlp, lr);
  return value;
}

describe("training", () => {
  it("a few SGD steps on a separable problem cut the loss and reach high accuracy (float32)", () => {
    const { x, y } = blobs(60, 1);
    const mlp = new MLP(4, [8], 3, { seed: 3 });
    const loss = new SoftmaxCrossEntropy();
    const initial = loss.forward(mlp.forward(x), y);
    const initialAccuracy = accuracy(mlp.forward(x), y);
    let last = initial;
    for (let step = 0; step < 30; step++) last = trainStep(mlp, loss, x, y, 0.2);
    const final = loss.forward(mlp.forward(x), y);
    expect(final).toBeLessThan(0.25 * initial);
    expect(final).toBeLessThanOrEqual(last);
    expect(accuracy(mlp.forward(x), y)).toBeGreaterThanOrEqual(0.95);
    expect(initialAccuracy).toBeLessThan(0.95);
  });

  it("is deterministic: same seed and data give bit-identical weights after training", () => {
    const { x, y } = blobs(30, 2);
    const run = () => {
      const mlp = new MLP(4, [6], 3, { seed: 5 });
      const loss = new SoftmaxCrossEntropy();
      for (let step = 0; step < 5; step++) trainStep(mlp, loss, x, y, 0.1);
      return mlp.parameters().flatMap((p) => Array.from(p.value.data));
    };
    expect(run()).toEqual(run());
  });

  it("reuses the same buffers every step for a fixed batch size (no per-step allocation)", () => {
    const { x, y } = blobs(16, 3);
    const mlp = new MLP(4, [8, 8], 3, { seed: 1 });
    const loss = new SoftmaxCrossEntropy();
    const buffersOfStep = () => {
      mlp.zeroGrad();
      const logits = mlp.forward(x);
      loss.forward(logits, y);
      const dLogits = loss.backward();
      mlp.backward(dLogits);
      sgdStep(mlp, 0.05);
      const dX = mlp.layers[2].backward(dLogits); // last layer's dX buffer
      return [logits, logits.data, dLogits, dLogits.data, dX, ...mlp.parameters().map((p) => p.grad)];
    };
    const first = buffersOfStep();
    for (let step = 0; step < 3; step++) {
      const again = buffersOfStep();
      for (const [i, b] of again.entries()) expect(b, `buffer ${i}`).toBe(first[i]);
    }
    // A smaller final evaluation batch gets its own buffers, then the training batch reuses its old ones.
    const tail = mlp.forward(fromTypedArray(new Float32Array(5 * 4), [5, 4]));
    expect(tail.shape).toEqual([5, 3]);
    expect(mlp.forward(x)).toBe(first[0]);
  });
});
