import { fromArray, Rng, transpose, zeros } from "@nabla/ndarray";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { at, layerShape, normalTensor, PROPERTY, toRows } from "../test/helpers.js";
import { ReLU, Softmax } from "./activations.js";
import { checkModuleGradients } from "./module-checks.js";

describe("ReLU", () => {
  it("forward is max(x, 0) and backward masks dY where x ≤ 0", () => {
    const relu = new ReLU();
    const x = fromArray(
      [
        [-2, 0, 3],
        [1.5, -0.1, 0],
      ],
      undefined,
      "float64",
    );
    expect(toRows(relu.forward(x))).toEqual([
      [0, 0, 3],
      [1.5, 0, 0],
    ]);
    const dY = fromArray(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      undefined,
      "float64",
    );
    expect(toRows(relu.backward(dY))).toEqual([
      [0, 0, 3],
      [4, 0, 0],
    ]); // gradient 0 at x = 0, like PyTorch
  });

  it("matches central differences (< 1e-6, float64, random shapes, inputs ≥ 1e-3 from the kink)", () => {
    fc.assert(
      fc.property(layerShape, (s) => {
        const rng = new Rng(s.seed);
        const x = normalTensor(rng, s.batch, s.inDim);
        const d = x.data;
        for (let i = 0; i < d.length; i++) d[i] += d[i] >= 0 ? 1e-3 : -1e-3;
        const [c] = checkModuleGradients(new ReLU(), x, { seed: s.seed });
        expect(c.maxRelativeError).toBeLessThan(1e-6);
      }),
      PROPERTY,
    );
  });

  it("works in float32 and keeps the input unchanged", () => {
    const relu = new ReLU();
    const x = fromArray([[-1, 2]], undefined, "float32");
    const y = relu.forward(x);
    expect(y.data).toBeInstanceOf(Float32Array);
    expect(Array.from(x.data)).toEqual([-1, 2]);
    expect(Array.from(relu.backward(fromArray([[5, 5]], undefined, "float32")).data)).toEqual([0, 5]);
  });
});

describe("Softmax", () => {
  it("rows are positive and sum to 1 (property)", () => {
    fc.assert(
      fc.property(layerShape, (s) => {
        const y = new Softmax().forward(normalTensor(new Rng(s.seed), s.batch, s.inDim, "float64", 5));
        for (let i = 0; i < s.batch; i++) {
          let sum = 0;
          for (let j = 0; j < s.inDim; j++) {
            expect(at(y, i, j)).toBeGreaterThanOrEqual(0);
            sum += at(y, i, j);
          }
          expect(sum).toBeCloseTo(1, 12);
        }
      }),
      PROPERTY,
    );
  });

  it("matches central differences (< 1e-6, float64, random shapes)", () => {
    fc.assert(
      fc.property(layerShape, (s) => {
        const rng = new Rng(s.seed);
        const [c] = checkModuleGradients(new Softmax(), normalTensor(rng, s.batch, s.inDim), {
          seed: s.seed,
        });
        expect(c.maxRelativeError).toBeLessThan(1e-6);
      }),
      PROPERTY,
    );
  });

  it("backward equals dY times the full Jacobian diag(y) − y yᵀ", () => {
    const rng = new Rng(3);
    const softmax = new Softmax();
    const y = toRows(softmax.forward(normalTensor(rng, 3, 4)));
    const dY = normalTensor(rng, 3, 4);
    const dX = softmax.backward(dY);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 4; j++) {
        let expected = 0;
        for (let k = 0; k < 4; k++) expected += at(dY, i, k) * ((k === j ? y[i][j] : 0) - y[i][k] * y[i][j]);
        expect(at(dX, i, j)).toBeCloseTo(expected, 14);
      }
  });

  it("is finite and exact at logits ±1e4 (max trick), float32 and float64", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const softmax = new Softmax();
      const y = softmax.forward(
        fromArray(
          [
            [1e4, -1e4, 0],
            [1e4, 1e4, -1e4],
            [-1e4, -1e4, -1e4],
          ],
          undefined,
          dtype,
        ),
      );
      expect(toRows(y)).toEqual([
        [1, 0, 0],
        [0.5, 0.5, 0],
        [1 / 3, 1 / 3, 1 / 3].map((v) => (dtype === "float32" ? Math.fround(v) : v)),
      ]);
      const dX = softmax.backward(
        fromArray(
          [
            [1, 2, 3],
            [1, 2, 3],
            [1, 2, 3],
          ],
          undefined,
          dtype,
        ),
      );
      expect(Array.from(dX.data).every(Number.isFinite)).toBe(true);
    }
  });

  it("accepts a strided (transposed) upstream gradient", () => {
    const rng = new Rng(9);
    const softmax = new Softmax();
    softmax.forward(normalTensor(rng, 2, 3));
    const g = normalTensor(rng, 3, 2);
    const a = toRows(softmax.backward(transpose(g)));
    const contiguousG = zeros([2, 3], "float64");
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) contiguousG.data[i * 3 + j] = at(g, j, i);
    expect(toRows(softmax.backward(contiguousG))).toEqual(a);
  });
});
