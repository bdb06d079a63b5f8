// Counts every tensor the modules create through @nabla/ndarray's zeros(): after the first
// step of a fixed batch size, a training step must create none.

import * as ndarray from "@nabla/ndarray";
import { fromTypedArray, Rng } from "@nabla/ndarray";
import { describe, expect, it, vi } from "vitest";
import { buildSequential } from "./layers.js";
import { SoftmaxCrossEntropy } from "./losses.js";
import { MLP } from "./sequential.js";

vi.mock("@nabla/ndarray", async (importOriginal) => {
  const original = await importOriginal<typeof import("@nabla/ndarray")>();
  return { ...original, zeros: vi.fn(original.zeros) };
});

describe("allocation", () => {
  it("a training step of a fixed batch size creates no tensors after the first", () => {
    const zeros = vi.mocked(ndarray.zeros);
    const rng = new Rng(0);
    const data = new Float32Array(32 * 10);
    rng.fillNormal(data, 0, 1);
    const x = fromTypedArray(data, [32, 10]);
    const y = Int32Array.from({ length: 32 }, (_, i) => i % 4);
    const mlp = new MLP(10, [16, 8], 4, { seed: 0 });
    const loss = new SoftmaxCrossEntropy();
    const step = () => {
      mlp.zeroGrad();
      loss.forward(mlp.forward(x), y);
      mlp.backward(loss.backward());
      for (const p of mlp.parameters()) {
        for (let i = 0; i < p.value.data.length; i++) p.value.data[i] -= 0.01 * p.grad.data[i];
      }
    };
    step();
    const afterFirst = zeros.mock.calls.length;
    expect(afterFirst).toBeGreaterThan(0); // the spy sees the modules' allocations
    for (let i = 0; i < 5; i++) step();
    expect(zeros.mock.calls.length).toBe(afterFirst);
  });

  it("so does a model with BatchNorm1d and Dropout, in training and in eval", () => {
    const zeros = vi.mocked(ndarray.zeros);
    const data = new Float32Array(16 * 6);
    new Rng(1).fillNormal(data, 0, 1);
    const x = fromTypedArray(data, [16, 6]);
    const y = Int32Array.from({ length: 16 }, (_, i) => i % 3);
    const model = buildSequential([{ linear: 8 }, "batchnorm1d", "relu", { dropout: 0.3 }, { linear: 3 }], {
      inputDim: 6,
      seed: 0,
    });
    const loss = new SoftmaxCrossEntropy();
    const step = () => {
      model.zeroGrad();
      loss.forward(model.forward(x), y);
      model.backward(loss.backward());
    };
    step();
    model.eval();
    step();
    model.train();
    const afterFirst = zeros.mock.calls.length;
    for (let i = 0; i < 3; i++) step();
    model.eval();
    step();
    expect(zeros.mock.calls.length).toBe(afterFirst);
  });
});
