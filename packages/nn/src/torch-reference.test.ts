// Compares with PyTorch autograd (an independent implementation): test/fixtures/torch-reference.json
// is written by scripts/torch-reference.py (float64, fixed inputs and weights).
import { readFileSync } from "node:fs";
import { fromArray, type Tensor } from "@nabla/ndarray";
import { describe, expect, it } from "vitest";
import { toRows } from "../test/helpers.js";
import { Softmax } from "./activations.js";
import { CrossEntropy, SoftmaxCrossEntropy } from "./losses.js";
import { MLP } from "./sequential.js";

interface Fixture {
  mlp: {
    dims: number[];
    x: number[][];
    labels: number[];
    weights: number[][][];
    biases: number[][];
    logits: number[][];
    loss: number;
    weightGrads: number[][][];
    biasGrads: number[][];
    inputGrad: number[][];
  };
  softmax: { z: number[][]; upstream: number[][]; y: number[][]; dz: number[][] };
  crossEntropy: { p: number[][]; labels: number[]; loss: number; dp: number[][] };
}

const fixture: Fixture = JSON.parse(
  readFileSync(new URL("../test/fixtures/torch-reference.json", import.meta.url), "utf8"),
);

function expectClose(actual: number[] | number[][], expected: number[] | number[][], tol = 1e-12): void {
  const a = actual.flat();
  const e = expected.flat();
  expect(a.length).toBe(e.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - e[i]), `entry ${i}`).toBeLessThan(tol);
}

const f64 = (rows: number[][]): Tensor => fromArray(rows, undefined, "float64");

describe("agreement with PyTorch (float64)", () => {
  it("MLP logits, mean cross-entropy and every gradient", () => {
    const m = fixture.mlp;
    const [inputDim, h1, h2, classes] = m.dims;
    const mlp = new MLP(inputDim, [h1, h2], classes, { seed: 0, dtype: "float64", computeInputGrad: true });
    mlp.layers.forEach((layer, k) => {
      layer.weight.data.set(m.weights[k].flat());
      layer.bias.data.set(m.biases[k]);
    });
    const loss = new SoftmaxCrossEntropy();
    mlp.zeroGrad();
    const logits = mlp.forward(f64(m.x));
    expectClose(toRows(logits), m.logits);
    expect(loss.forward(logits, m.labels)).toBeCloseTo(m.loss, 13);
    const dX = mlp.backward(loss.backward()) as Tensor;
    expectClose(toRows(dX), m.inputGrad);
    mlp.layers.forEach((layer, k) => {
      expectClose(toRows(layer.weightGrad), m.weightGrads[k]);
      expectClose(Array.from(layer.biasGrad.data), m.biasGrads[k]);
    });
  });

  it("Softmax forward and its Jacobian-vector product", () => {
    const s = fixture.softmax;
    const softmax = new Softmax();
    expectClose(toRows(softmax.forward(f64(s.z))), s.y);
    expectClose(toRows(softmax.backward(f64(s.upstream))), s.dz);
  });

  it("CrossEntropy on probabilities (torch: nll_loss of log p, mean)", () => {
    const c = fixture.crossEntropy;
    const ce = new CrossEntropy();
    expect(ce.forward(f64(c.p), c.labels)).toBeCloseTo(c.loss, 13);
    expectClose(toRows(ce.backward()), c.dp);
  });
});
