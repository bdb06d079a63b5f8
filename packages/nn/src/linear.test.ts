import { Rng, sliceRows, type Tensor, transpose, zeros } from "@nabla/ndarray";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { at, layerShape, normalTensor, PROPERTY } from "../test/helpers.js";
import { NnError } from "./errors.js";
import { initStd, Linear } from "./linear.js";
import { checkModuleGradients } from "./module-checks.js";

/** Naive Y = X Wᵀ + b. */
function naiveForward(x: Tensor, w: Tensor, b: Tensor): number[][] {
  const [n, k] = x.shape;
  const out = w.shape[0];
  const y: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row: number[] = [];
    for (let o = 0; o < out; o++) {
      let s = b.data[o];
      for (let j = 0; j < k; j++) s += at(x, i, j) * at(w, o, j);
      row.push(s);
    }
    y.push(row);
  }
  return y;
}

function withBias(layer: Linear, rng: Rng): Linear {
  rng.fillNormal(layer.bias, 0, 1);
  return layer;
}

describe("Linear forward", () => {
  it("computes X Wᵀ + b (property, float64 and float32)", () => {
    fc.assert(
      fc.property(layerShape, fc.constantFrom("float64" as const, "float32" as const), (s, dtype) => {
        const rng = new Rng(s.seed);
        const layer = withBias(new Linear(s.inDim, s.outDim, { rng, dtype }), rng);
        const x = normalTensor(rng, s.batch, s.inDim, dtype);
        const y = layer.forward(x);
        expect(y.shape).toEqual([s.batch, s.outDim]);
        const ref = naiveForward(x, layer.weight, layer.bias);
        const tol = dtype === "float64" ? 1e-12 : 1e-5;
        for (let i = 0; i < s.batch; i++)
          for (let o = 0; o < s.outDim; o++) expect(Math.abs(at(y, i, o) - ref[i][o])).toBeLessThan(tol);
      }),
      PROPERTY,
    );
  });

  it("accepts strided inputs (a transposed view and a row slice)", () => {
    const rng = new Rng(5);
    const layer = withBias(new Linear(3, 2, { rng, dtype: "float64" }), rng);
    const xt = transpose(normalTensor(rng, 3, 4)); // 4×3 view, column-major
    expect(layer.forward(xt).shape).toEqual([4, 2]);
    const expected = naiveForward(xt, layer.weight, layer.bias);
    const y = layer.forward(xt);
    for (let i = 0; i < 4; i++)
      for (let o = 0; o < 2; o++) expect(at(y, i, o)).toBeCloseTo(expected[i][o], 12);
    const rows = sliceRows(normalTensor(rng, 6, 3), 2, 5);
    const ys = layer.forward(rows);
    const es = naiveForward(rows, layer.weight, layer.bias);
    for (let i = 0; i < 3; i++) for (let o = 0; o < 2; o++) expect(at(ys, i, o)).toBeCloseTo(es[i][o], 12);
  });
});

describe("Linear backward", () => {
  it("matches central differences for W, b and X (< 1e-6, float64, random shapes)", () => {
    fc.assert(
      fc.property(layerShape, (s) => {
        const rng = new Rng(s.seed);
        const layer = withBias(new Linear(s.inDim, s.outDim, { rng, dtype: "float64" }), rng);
        const checks = checkModuleGradients(layer, normalTensor(rng, s.batch, s.inDim), { seed: s.seed });
        expect(checks.map((c) => c.wrt)).toEqual(["input", "weight", "bias"]);
        for (const c of checks) expect(c.maxRelativeError, c.wrt).toBeLessThan(1e-6);
      }),
      PROPERTY,
    );
  });

  it.each([
    [1, 7, 3],
    [1, 1, 1],
    [5, 2, 9],
  ])("batch %i, %i→%i passes the gradient check", (batch, inDim, outDim) => {
    const rng = new Rng(batch * 100 + inDim * 10 + outDim);
    const layer = withBias(new Linear(inDim, outDim, { rng, dtype: "float64" }), rng);
    for (const c of checkModuleGradients(layer, normalTensor(rng, batch, inDim))) {
      expect(c.maxRelativeError).toBeLessThan(1e-6);
    }
  });

  it("gives dW = dYᵀX, db = 1ᵀdY, dX = dY W exactly as written, and accumulates until zeroGrad", () => {
    const rng = new Rng(11);
    const layer = new Linear(4, 3, { rng, dtype: "float64" });
    const x = normalTensor(rng, 5, 4);
    const dY = normalTensor(rng, 5, 3);
    layer.forward(x);
    const dX = layer.backward(dY) as Tensor;
    for (let o = 0; o < 3; o++) {
      let db = 0;
      for (let i = 0; i < 5; i++) db += at(dY, i, o);
      expect(layer.biasGrad.data[o]).toBeCloseTo(db, 12);
      for (let j = 0; j < 4; j++) {
        let dw = 0;
        for (let i = 0; i < 5; i++) dw += at(dY, i, o) * at(x, i, j);
        expect(at(layer.weightGrad, o, j)).toBeCloseTo(dw, 12);
      }
    }
    for (let i = 0; i < 5; i++)
      for (let j = 0; j < 4; j++) {
        let dx = 0;
        for (let o = 0; o < 3; o++) dx += at(dY, i, o) * at(layer.weight, o, j);
        expect(at(dX, i, j)).toBeCloseTo(dx, 12);
      }
    const once = Float64Array.from(layer.weightGrad.data);
    layer.forward(x);
    layer.backward(dY);
    for (let k = 0; k < once.length; k++) expect(layer.weightGrad.data[k]).toBeCloseTo(2 * once[k], 12);
    layer.zeroGrad();
    expect(layer.weightGrad.data.every((v) => v === 0)).toBe(true);
    expect(layer.biasGrad.data.every((v) => v === 0)).toBe(true);
  });

  it("skips dX when computeInputGrad is false but still fills dW and db", () => {
    const rng = new Rng(2);
    const layer = new Linear(4, 3, { rng, dtype: "float64", computeInputGrad: false });
    layer.forward(normalTensor(rng, 2, 4));
    expect(layer.backward(normalTensor(rng, 2, 3))).toBeNull();
    expect(layer.weightGrad.data.some((v) => v !== 0)).toBe(true);
    expect(layer.biasGrad.data.some((v) => v !== 0)).toBe(true);
  });
});

describe("Linear initialisation", () => {
  it("draws N(0, 2/in) weights (std √(2/in)), or N(0, 1/in) for kaiming-input, and zero biases", () => {
    const inDim = 512;
    for (const init of ["kaiming", "kaiming-input"] as const) {
      const layer = new Linear(inDim, 256, { rng: new Rng(42), init });
      const w = layer.weight.data;
      let sum = 0;
      let sq = 0;
      for (const v of w) {
        sum += v;
        sq += v * v;
      }
      const mean = sum / w.length;
      const std = Math.sqrt(sq / w.length - mean * mean);
      const expected = Math.sqrt((init === "kaiming" ? 2 : 1) / inDim);
      expect(initStd(inDim, init)).toBeCloseTo(expected, 15);
      expect(Math.abs(std / expected - 1)).toBeLessThan(0.01); // 131072 samples: std error ≈ 0.2 %
      expect(Math.abs(mean)).toBeLessThan((4 * expected) / Math.sqrt(w.length)); // 4 standard errors
      expect(layer.bias.data.every((v) => v === 0)).toBe(true);
    }
  });

  it("fills the weight row-major with rng.fillNormal(weight, 0, std): same seed, same weights", () => {
    const a = new Linear(6, 4, { rng: new Rng(7), dtype: "float64" });
    const b = new Linear(6, 4, { rng: new Rng(7), dtype: "float64" });
    expect(Array.from(a.weight.data)).toEqual(Array.from(b.weight.data));
    const expected = zeros([4, 6], "float64");
    new Rng(7).fillNormal(expected, 0, Math.sqrt(2 / 6));
    expect(Array.from(a.weight.data)).toEqual(Array.from(expected.data));
    const c = new Linear(6, 4, { rng: new Rng(8), dtype: "float64" });
    expect(Array.from(c.weight.data)).not.toEqual(Array.from(a.weight.data));
  });

  it("exposes weight and bias as named, contiguous parameters of the chosen dtype", () => {
    const layer = new Linear(3, 2, { rng: new Rng(0), dtype: "float64" });
    const [w, b] = layer.parameters();
    expect(w.name).toBe("weight");
    expect(b.name).toBe("bias");
    expect(w.value).toBe(layer.weight);
    expect(w.grad).toBe(layer.weightGrad);
    expect(w.value.data).toBeInstanceOf(Float64Array);
    expect(w.value.shape).toEqual([2, 3]);
    expect(b.value.shape).toEqual([2]);
    expect(new Linear(3, 2, { rng: new Rng(0) }).weight.data).toBeInstanceOf(Float32Array);
  });
});

describe("Linear errors", () => {
  it("throws one-line NnErrors naming the problem", () => {
    const rng = new Rng(0);
    expect(() => new Linear(0, 2, { rng })).toThrow(/Linear: inDim must be a positive integer, got 0/);
    expect(() => new Linear(2, 1.5, { rng })).toThrow(NnError);
    expect(() => new Linear(2, 2, { rng, init: "xavier" as never })).toThrow(/unknown init "xavier"/);
    const layer = new Linear(3, 2, { rng, dtype: "float64" });
    expect(() => layer.backward(zeros([1, 2], "float64"))).toThrow(/called before forward/);
    expect(() => layer.forward(zeros([2, 4], "float64"))).toThrow(/expected 3 columns, got shape \[2,4\]/);
    expect(() => layer.forward(zeros([2, 3], "float32"))).toThrow(/expected a float64 tensor, got float32/);
    expect(() => layer.forward(zeros([3], "float64"))).toThrow(/expected a 2-D/);
    layer.forward(zeros([2, 3], "float64"));
    expect(() => layer.backward(zeros([2, 3], "float64"))).toThrow(/dY must have shape \[2,2\]/);
  });
});
