import { fromArray, Rng, softmaxRows, zeros } from "@nabla/ndarray";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { at, layerShape, normalTensor, PROPERTY, randomLabels, toRows } from "../test/helpers.js";
import { Softmax } from "./activations.js";
import { CROSS_ENTROPY_EPSILON, CrossEntropy, SoftmaxCrossEntropy } from "./losses.js";
import { checkLossGradients } from "./module-checks.js";

describe("SoftmaxCrossEntropy", () => {
  it("is the batch mean of −log softmax(z)[label]", () => {
    const z = fromArray(
      [
        [1, 2, 3],
        [0, 0, 0],
      ],
      undefined,
      "float64",
    );
    const loss = new SoftmaxCrossEntropy().forward(z, [2, 0]);
    const row0 = -Math.log(Math.exp(3) / (Math.exp(1) + Math.exp(2) + Math.exp(3)));
    const row1 = Math.log(3);
    expect(loss).toBeCloseTo((row0 + row1) / 2, 14);
  });

  it("backward is (softmax(z) − onehot)/S", () => {
    const z = fromArray(
      [
        [1, 2, 3],
        [0, 0, 0],
      ],
      undefined,
      "float64",
    );
    const ce = new SoftmaxCrossEntropy();
    ce.forward(z, [2, 0]);
    const p = zeros([2, 3], "float64");
    softmaxRows(p, z);
    const expected = toRows(p).map((row, i) => row.map((v, j) => (v - (j === [2, 0][i] ? 1 : 0)) / 2));
    const got = toRows(ce.backward());
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) expect(got[i][j]).toBeCloseTo(expected[i][j], 15);
  });

  it("matches central differences (< 1e-6, float64, random shapes incl. batch 1)", () => {
    fc.assert(
      fc.property(layerShape, (s) => {
        const rng = new Rng(s.seed);
        const c = checkLossGradients(
          new SoftmaxCrossEntropy(),
          normalTensor(rng, s.batch, s.inDim, "float64", 2),
          randomLabels(rng, s.batch, s.inDim),
        );
        expect(c.maxRelativeError).toBeLessThan(1e-6);
      }),
      PROPERTY,
    );
  });

  it("equals Softmax followed by CrossEntropy, value and gradient", () => {
    fc.assert(
      fc.property(layerShape, (s) => {
        const rng = new Rng(s.seed);
        const z = normalTensor(rng, s.batch, s.inDim);
        const labels = randomLabels(rng, s.batch, s.inDim);
        const fused = new SoftmaxCrossEntropy();
        const softmax = new Softmax();
        const ce = new CrossEntropy();
        expect(ce.forward(softmax.forward(z), labels)).toBeCloseTo(fused.forward(z, labels), 12);
        const chained = toRows(softmax.backward(ce.backward()));
        const direct = toRows(fused.backward());
        for (let i = 0; i < s.batch; i++)
          for (let j = 0; j < s.inDim; j++) expect(chained[i][j]).toBeCloseTo(direct[i][j], 12);
      }),
      PROPERTY,
    );
  });

  it("is finite at logits ±1e4 in float32 and float64", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const ce = new SoftmaxCrossEntropy();
      const z = fromArray(
        [
          [1e4, -1e4],
          [1e4, -1e4],
          [-1e4, -1e4],
        ],
        undefined,
        dtype,
      );
      const loss = ce.forward(z, [0, 1, 1]);
      // row 0: 0; row 1: 2e4; row 2: ln 2
      expect(loss).toBeCloseTo((0 + 2e4 + Math.LN2) / 3, dtype === "float64" ? 9 : 3);
      const g = toRows(ce.backward());
      expect(g.flat().every(Number.isFinite)).toBe(true);
      expect(g[1][0]).toBeCloseTo(1 / 3, 6);
      expect(g[1][1]).toBeCloseTo(-1 / 3, 6);
    }
  });

  it("rejects bad labels with a one-line message", () => {
    const ce = new SoftmaxCrossEntropy();
    const z = zeros([2, 3], "float64");
    expect(() => ce.forward(z, [0])).toThrow(/expected 2 labels \(one per row\), got 1/);
    expect(() => ce.forward(z, [0, 3])).toThrow(/label 1 is 3, expected an integer in \[0, 3\)/);
    expect(() => ce.forward(z, [0.5, 1])).toThrow(/label 0 is 0.5/);
    expect(() => new SoftmaxCrossEntropy().backward()).toThrow(/called before forward/);
  });
});

describe("CrossEntropy on probabilities", () => {
  it("is the batch mean of −log p[label]", () => {
    const p = fromArray(
      [
        [0.2, 0.8],
        [0.5, 0.5],
      ],
      undefined,
      "float64",
    );
    expect(new CrossEntropy().forward(p, [1, 0])).toBeCloseTo(-(Math.log(0.8) + Math.log(0.5)) / 2, 15);
  });

  it("matches central differences (< 1e-6, float64, softmax probabilities)", () => {
    fc.assert(
      fc.property(layerShape, (s) => {
        const rng = new Rng(s.seed);
        const p = zeros([s.batch, s.inDim], "float64");
        softmaxRows(p, normalTensor(rng, s.batch, s.inDim));
        const c = checkLossGradients(new CrossEntropy(), p, randomLabels(rng, s.batch, s.inDim));
        expect(c.maxRelativeError).toBeLessThan(1e-6);
      }),
      PROPERTY,
    );
  });

  it("is finite at p = 0: the loss is −ln(ε)/S and the gradient −1/(S·ε)", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const ce = new CrossEntropy();
      const p = fromArray(
        [
          [0, 1],
          [1, 0],
        ],
        undefined,
        dtype,
      );
      const loss = ce.forward(p, [0, 0]);
      expect(loss).toBeCloseTo(-Math.log(CROSS_ENTROPY_EPSILON) / 2, 12);
      expect(Number.isFinite(loss)).toBe(true);
      const g = ce.backward();
      expect(Array.from(g.data).every(Number.isFinite)).toBe(true);
      expect(at(g, 0, 0)).toBeCloseTo(
        dtype === "float32" ? Math.fround(-1 / (2 * 1e-12)) : -1 / (2 * 1e-12),
        0,
      );
      expect(at(g, 1, 0)).toBe(-0.5);
      expect([at(g, 0, 1), at(g, 1, 1)]).toEqual([0, 0]);
    }
  });
});
