// Compares a small CNN, trained 3 SGD steps (momentum 0.9, weight decay 1e-4) and then evaluated, with PyTorch:
// test/fixtures/torch-cnn.json is written by scripts/torch-cnn-reference.py (float64). Every loss, logit,
// parameter and BatchNorm running statistic must agree to ~1e-10 in float64, and to ~1e-4 in float32.
import { readFileSync } from "node:fs";
import { type DType, fromArray, type Tensor } from "@nabla/ndarray";
import { createOptimizer } from "@nabla/optim";
import { describe, expect, it } from "vitest";
import { buildSequential } from "./layers.js";
import { SoftmaxCrossEntropy } from "./losses.js";

interface Fixture {
  lr: number;
  momentum: number;
  weightDecay: number;
  shapes: Record<string, number[]>;
  initial: Record<string, number[]>;
  batches: number[][];
  labels: number[][];
  steps: { loss: number; logits: number[]; state: Record<string, number[]> }[];
  evalX: number[];
  evalLogits: number[];
}

const fixture: Fixture = JSON.parse(
  readFileSync(new URL("../test/fixtures/torch-cnn.json", import.meta.url), "utf8"),
);

const layers = [
  { conv2d: { out: 4, kernel: 3, padding: 1 } },
  "batchnorm2d",
  "relu",
  { maxpool2d: 2 },
  { conv2d: { out: 6, kernel: 3, stride: 1, padding: 1, bias: false } },
  "batchnorm2d",
  "relu",
  "adaptiveavgpool2d",
  "flatten",
  { linear: 5 },
];

function maxError(actual: ArrayLike<number>, expected: readonly number[]): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  return worst;
}

function run(dtype: DType, tol: number): number {
  const model = buildSequential(layers, { inputShape: [3, 8, 8], seed: 0, dtype });
  const names = Object.keys(fixture.initial);
  expect(Object.keys(model.stateDict()).sort()).toEqual([...names].sort());
  // float64 tensors: the integer num_batches_tracked buffer is float64 whatever the model's dtype
  const dict: Record<string, Tensor> = {};
  const current = model.stateDict();
  for (const name of names) {
    dict[name] = fromArray(fixture.initial[name], fixture.shapes[name], current[name].dtype);
  }
  model.loadStateDict(dict);
  const optimizer = createOptimizer(
    { kind: "sgd", lr: fixture.lr, momentum: fixture.momentum, weightDecay: fixture.weightDecay },
    model.parameters(),
  );
  const loss = new SoftmaxCrossEntropy();
  let worst = 0;
  model.train();
  fixture.steps.forEach((step, k) => {
    optimizer.zeroGrad();
    const logits = model.forward(fromArray(fixture.batches[k], [4, 3, 8, 8], dtype));
    const value = loss.forward(logits, fixture.labels[k]);
    model.backward(loss.backward());
    optimizer.step();
    worst = Math.max(worst, Math.abs(value - step.loss), maxError(logits.data, step.logits));
    const state = model.stateDict();
    for (const name of names) {
      const err = maxError(state[name].data, step.state[name]);
      expect(err, `step ${k + 1}: ${name}`).toBeLessThan(tol);
      worst = Math.max(worst, err);
    }
    expect(Math.abs(value - step.loss), `step ${k + 1}: loss`).toBeLessThan(tol);
    expect(maxError(logits.data, step.logits), `step ${k + 1}: logits`).toBeLessThan(tol);
  });
  model.eval();
  const evalLogits = model.forward(fromArray(fixture.evalX, [3, 3, 8, 8], dtype));
  const evalErr = maxError(evalLogits.data, fixture.evalLogits);
  expect(evalErr, "eval logits").toBeLessThan(tol);
  return Math.max(worst, evalErr);
}

describe("a small CNN against PyTorch: 3 SGD steps in train mode, then eval", () => {
  it("float64: every loss, logit, parameter and running statistic within 1e-10", () => {
    const worst = run("float64", 1e-10);
    console.log(`float64 max abs error vs torch: ${worst.toExponential(2)}`);
  });

  it("float32: the same steps within 1e-4", () => {
    const worst = run("float32", 1e-4);
    console.log(`float32 max abs error vs torch: ${worst.toExponential(2)}`);
  });
});
