import { readFileSync } from "node:fs";
import * as nd from "@nabla/ndarray";
import { fromTypedArray, Rng, type Tensor, zeros } from "@nabla/ndarray";
import { describe, expect, it, vi } from "vitest";
import { BatchNorm1d } from "./batchnorm.js";
import { BatchNorm2d } from "./batchnorm2d.js";
import { buildSequential, planLayers } from "./layers.js";
import { checkModuleGradients } from "./module-checks.js";

interface Step {
  x: number[];
  upstream: number[];
  y: number[];
  dx: number[];
  dweight?: number[];
  dbias?: number[];
}
interface Case {
  shape: [number, number, number, number];
  options: { momentum: number; eps: number; affine: boolean };
  initial: { weight: number[]; bias: number[] } | null;
  steps: (Step & { running_mean: number[]; running_var: number[]; num_batches_tracked: number })[];
  eval: Step;
  stateDictKeys: string[];
}
// Counts the tensors the modules create, for the allocation test (the spies call the real functions).
vi.mock("@nabla/ndarray", async (importOriginal) => {
  const original = await importOriginal<typeof import("@nabla/ndarray")>();
  return { ...original, zeros: vi.fn(original.zeros), residentZeros: vi.fn(original.residentZeros) };
});

const fixture: { batchnorm2d: Case; batchnorm2dPlain: Case } = JSON.parse(
  readFileSync(new URL("../test/fixtures/torch-batchnorm2d-activations.json", import.meta.url), "utf8"),
);

const f64 = (values: number[], shape: number[]): Tensor => fromTypedArray(Float64Array.from(values), shape);

function expectClose(actual: ArrayLike<number>, expected: number[], what: string, tol = 1e-12) {
  expect(actual.length, what).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  expect(worst, what).toBeLessThan(tol);
}

function normal(rng: Rng, shape: number[], mean = 0, std = 1): Tensor {
  const t = zeros(shape, "float64");
  rng.fillNormal(t, mean, std);
  return t;
}

/** A float64 BatchNorm2d with random γ, β and non-trivial running statistics. */
function randomLayer(rng: Rng, channels: number, opts: { affine?: boolean; eps?: number } = {}): BatchNorm2d {
  const bn = new BatchNorm2d(channels, { dtype: "float64", ...opts });
  rng.fillNormal(bn.weight, 1, 0.5);
  rng.fillNormal(bn.bias, 0, 0.5);
  rng.fillNormal(bn.runningMean, 0, 1);
  rng.fillUniform(bn.runningVar, 0.5, 2);
  return bn;
}

describe("BatchNorm2d gradients (float64 central differences)", () => {
  it.each([[[2, 3, 2, 2]], [[1, 2, 3, 1]], [[3, 1, 1, 2]], [[2, 2, 3, 5]], [[4, 3, 1, 1]]])(
    "shape %j: training and eval, affine and not",
    (shape) => {
      for (const affine of [true, false]) {
        for (const training of [true, false]) {
          const rng = new Rng(shape.reduce((a, b) => a * 7 + b, 0));
          const bn = randomLayer(rng, shape[1], { affine });
          bn.train(training);
          const checks = checkModuleGradients(bn, normal(rng, shape, 0.5, 2), { name: "bn2d", seed: 3 });
          expect(checks.map((c) => c.wrt)).toEqual(affine ? ["input", "weight", "bias"] : ["input"]);
          for (const r of checks) {
            // dL/dx sums to zero per channel in training, so entries can be small differences of large
            // terms; the error relative to the largest entry is the meaningful bound (as for BatchNorm1d).
            const largest = r.analytical.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-3);
            expect(
              r.maxAbsoluteError / largest,
              `${r.wrt} training=${training} affine=${affine}`,
            ).toBeLessThan(1e-6);
          }
        }
      }
    },
  );

  it("N·H·W = 2 per channel (the smallest PyTorch trains on), eps 0.1 so the gradient is resolvable", () => {
    for (const shape of [
      [2, 3, 1, 1],
      [1, 2, 1, 2],
    ]) {
      const rng = new Rng(5);
      const checks = checkModuleGradients(randomLayer(rng, shape[1], { eps: 0.1 }), normal(rng, shape), {
        name: "bn2d",
      });
      for (const r of checks) expect(r.maxRelativeError, `${r.wrt} [${shape}]`).toBeLessThan(1e-6);
    }
  });
});

describe("BatchNorm2d agrees with PyTorch (float64)", () => {
  it.each([
    ["defaults, [3, 3, 4, 5]", fixture.batchnorm2d],
    ["affine=False, momentum 0.3, eps 1e-3, [2, 4, 3, 1]", fixture.batchnorm2dPlain],
  ])("%s: three training steps (outputs, gradients, running stats), then eval", (_label, c) => {
    const { shape, options } = c;
    const bn = new BatchNorm2d(shape[1], { ...options, dtype: "float64" });
    if (c.initial !== null) {
      bn.weight.data.set(c.initial.weight);
      bn.bias.data.set(c.initial.bias);
    }
    const check = (step: Step, where: string) => {
      bn.zeroGrad();
      expectClose(bn.forward(f64(step.x, shape)).data, step.y, `${where} y`);
      expectClose(bn.backward(f64(step.upstream, shape)).data, step.dx, `${where} dx`);
      if (step.dweight !== undefined && step.dbias !== undefined) {
        expectClose(bn.weightGrad.data, step.dweight, `${where} dweight`);
        expectClose(bn.biasGrad.data, step.dbias, `${where} dbias`);
      }
    };
    c.steps.forEach((step, i) => {
      check(step, `step ${i}`);
      expectClose(bn.runningMean.data, step.running_mean, `step ${i} running_mean`);
      expectClose(bn.runningVar.data, step.running_var, `step ${i} running_var`);
      expect(bn.numBatchesTracked.data[0]).toBe(step.num_batches_tracked);
    });
    bn.eval();
    check(c.eval, "eval");
    expect(bn.numBatchesTracked.data[0]).toBe(c.steps.length); // eval does not count
  });
});

describe("BatchNorm2d structure", () => {
  it("names its state as torch.nn.BatchNorm2d does, and loads a state dict", () => {
    const bn = new BatchNorm2d(3);
    expect(Object.keys(bn.stateDict())).toEqual(fixture.batchnorm2d.stateDictKeys);
    expect(Object.keys(new BatchNorm2d(4, { affine: false }).stateDict())).toEqual(
      fixture.batchnorm2dPlain.stateDictKeys,
    );
    expect(bn.buffers().map((b) => [b.name, b.value.shape, b.integer ?? false])).toEqual([
      ["running_mean", [3], false],
      ["running_var", [3], false],
      ["num_batches_tracked", [], true],
    ]);
    expect(Array.from(bn.weight.data)).toEqual([1, 1, 1]);
    expect(Array.from(bn.runningVar.data)).toEqual([1, 1, 1]);
    const source = new BatchNorm2d(3);
    source.forward(toF32([2, 3, 2, 2]));
    bn.loadStateDict(source.stateDict());
    expect(Array.from(bn.runningMean.data)).toEqual(Array.from(source.runningMean.data));
    expect(bn.numBatchesTracked.data[0]).toBe(1);
  });

  it("over [N, C, 1, 1] it is BatchNorm1d over [N, C], bit for bit, in float32 and float64", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const rng = new Rng(11);
      const flat = zeros([6, 4], dtype);
      rng.fillNormal(flat, 1, 3);
      const dy = zeros([6, 4], dtype);
      rng.fillNormal(dy, 0, 1);
      const a = new BatchNorm1d(4, { dtype, momentum: 0.2 });
      const b = new BatchNorm2d(4, { dtype, momentum: 0.2 });
      for (let step = 0; step < 3; step++) {
        if (step === 2) {
          a.eval();
          b.eval();
        }
        const image = (t: Tensor) => fromTypedArray(t.data, [6, 4, 1, 1]);
        expect(Array.from(b.forward(image(flat)).data)).toEqual(Array.from(a.forward(flat).data));
        expect(Array.from(b.backward(image(dy)).data)).toEqual(Array.from(a.backward(dy).data));
        expect(Array.from(b.runningVar.data)).toEqual(Array.from(a.runningVar.data));
      }
    }
  });

  it("equals BatchNorm1d over the [N·H·W, C] rows of the same values (statistics over batch and space)", () => {
    const [n, c, h, w] = [3, 2, 4, 5];
    const rng = new Rng(4);
    const x = normal(rng, [n, c, h, w], 2, 3);
    const dy = normal(rng, [n, c, h, w]);
    // rows[(i·H + p)·W + q][j] = x[i][j][p][q]: NCHW → NHWC
    const toRows = (t: Tensor) => {
      const rows = zeros([n * h * w, c], "float64");
      for (let i = 0; i < n; i++)
        for (let j = 0; j < c; j++)
          for (let s = 0; s < h * w; s++)
            rows.data[(i * h * w + s) * c + j] = t.data[(i * c + j) * h * w + s];
      return rows;
    };
    const bn2 = new BatchNorm2d(c, { dtype: "float64" });
    const bn1 = new BatchNorm1d(c, { dtype: "float64" });
    expectClose(toRows(bn2.forward(x)).data, Array.from(bn1.forward(toRows(x)).data), "y", 1e-13);
    expectClose(toRows(bn2.backward(dy)).data, Array.from(bn1.backward(toRows(dy)).data), "dx", 1e-12);
    expectClose(bn2.runningVar.data, Array.from(bn1.runningVar.data), "running_var", 1e-14);
  });

  it("reads a permuted (non-contiguous) input and dY as their contiguous copies", () => {
    const rng = new Rng(8);
    const shape = [2, 3, 4, 5];
    const x = normal(rng, shape);
    const dy = normal(rng, shape);
    // the same values through a view of a [2, 3, 5, 4] array with H and W swapped: strides [60, 20, 1, 4]
    const swapped = (t: Tensor) => {
      const u = zeros([2, 3, 5, 4], "float64");
      for (let nc = 0; nc < 6; nc++)
        for (let p = 0; p < 4; p++)
          for (let q = 0; q < 5; q++) u.data[nc * 20 + q * 4 + p] = t.data[nc * 20 + p * 5 + q];
      const view = u.transpose(0, 1, 3, 2);
      expect(view.stride).toEqual([60, 20, 1, 4]);
      return view;
    };
    const a = new BatchNorm2d(3, { dtype: "float64" });
    const b = new BatchNorm2d(3, { dtype: "float64" });
    expect(Array.from(b.forward(swapped(x)).data)).toEqual(Array.from(a.forward(x).data));
    expect(Array.from(b.backward(swapped(dy)).data)).toEqual(Array.from(a.backward(dy).data));
  });

  it("float32 runs, is deterministic, and reuses its buffers", () => {
    const x = toF32([4, 3, 5, 5]);
    const run = () => {
      const bn = new BatchNorm2d(3);
      const y1 = bn.forward(x);
      const dx1 = bn.backward(x);
      expect(bn.forward(x)).toBe(y1);
      expect(bn.backward(x)).toBe(dx1);
      expect(y1.data).toBeInstanceOf(Float32Array);
      return [Array.from(y1.data), Array.from(bn.runningVar.data)];
    };
    expect(run()).toEqual(run());
  });

  it("rejects bad options and inputs with one-line errors", () => {
    expect(() => new BatchNorm2d(0)).toThrow(/BatchNorm2d: channels must be a positive integer, got 0/);
    expect(() => new BatchNorm2d(2, { momentum: -1 })).toThrow(/BatchNorm2d: momentum must be in \[0, 1\]/);
    expect(() => new BatchNorm2d(2, { eps: 0 })).toThrow(/BatchNorm2d: eps must be positive/);
    const bn = new BatchNorm2d(2, { dtype: "float64" });
    expect(() => bn.backward(zeros([1, 2, 1, 1], "float64"))).toThrow(
      /BatchNorm2d.backward: called before forward/,
    );
    expect(() => bn.forward(zeros([1, 2, 1, 1], "float64"))).toThrow(
      /training needs more than 1 value per channel \(N·H·W\), got shape \[1,2,1,1\]/,
    );
    expect(() => bn.forward(zeros([2, 3, 2, 2], "float64"))).toThrow(/expected a 4-D \[N, 2, H, W\] tensor/);
    expect(() => bn.forward(zeros([4, 2], "float64"))).toThrow(/expected a 4-D \[N, 2, H, W\] tensor/);
    expect(() => bn.forward(zeros([2, 2, 2, 2], "float32"))).toThrow(/expected a float64 tensor/);
    bn.forward(zeros([2, 2, 2, 2], "float64"));
    expect(() => bn.backward(zeros([2, 2, 2, 3], "float64"))).toThrow(/dY must have shape \[2,2,2,2\]/);
    bn.eval();
    expect(bn.forward(zeros([1, 2, 1, 1], "float64")).shape).toEqual([1, 2, 1, 1]); // eval takes one value
  });
});

describe('the "batchnorm2d" layer', () => {
  it("declares its shape, parameters, buffers and activations, and takes only [C, H, W]", () => {
    const plan = planLayers(["batchnorm2d", { batchnorm2d: { affine: false, momentum: 0.3 } }], [3, 4, 5]);
    expect(plan.layers.map((l) => [l.outShape, l.parameters, l.buffers, l.activations])).toEqual([
      [[3, 4, 5], 6, 7, 180],
      [[3, 4, 5], 0, 7, 180],
    ]);
    expect(() => planLayers(["batchnorm2d"], [12])).toThrow(
      /layers\[0\] \(batchnorm2d\): expected an image input \[C, H, W\], got \[12\]/,
    );
    expect(() => planLayers([{ batchnorm2d: { eps: 0 } }], [3, 4, 5])).toThrow(/eps/);
    expect(() => planLayers([{ batchnorm2d: { gamma: 1 } }], [3, 4, 5])).toThrow(/batchnorm2d/);
  });

  it("builds a BatchNorm2d with the config and the model's dtype; its state is prefixed by index", () => {
    const model = buildSequential([{ batchnorm2d: { momentum: 0.5, eps: 1e-3 } }], {
      inputShape: [2, 3, 3],
      seed: 0,
      dtype: "float64",
    });
    const bn = model.modules[0] as BatchNorm2d;
    expect(bn).toBeInstanceOf(BatchNorm2d);
    expect([bn.features, bn.momentum, bn.eps, bn.dtype]).toEqual([2, 0.5, 1e-3, "float64"]);
    expect(Object.keys(model.stateDict())).toEqual(fixture.batchnorm2d.stateDictKeys.map((k) => `0.${k}`));
    expect(model.forward(normal(new Rng(2), [4, 2, 3, 3])).shape).toEqual([4, 2, 3, 3]);
  });
});

describe("allocation", () => {
  it("steps of batchnorm2d and the activations create no tensors after the first, in training and eval", () => {
    const created = () =>
      vi.mocked(nd.zeros).mock.calls.length + vi.mocked(nd.residentZeros).mock.calls.length;
    const model = buildSequential(["batchnorm2d", "gelu", "leakyrelu", "tanh", "sigmoid", "batchnorm2d"], {
      inputShape: [3, 4, 4],
      seed: 0,
    });
    const x = toF32([8, 3, 4, 4]);
    const step = () => {
      model.zeroGrad();
      model.backward(model.forward(x));
    };
    step();
    model.eval();
    step();
    model.train();
    const before = created();
    expect(before).toBeGreaterThan(0); // the spies see the modules' buffers
    for (let i = 0; i < 3; i++) step();
    model.eval();
    step();
    expect(created()).toBe(before);
  });
});

function toF32(shape: number[]): Tensor {
  const t = zeros(shape, "float32");
  new Rng(3).fillNormal(t, 0.5, 2);
  return t;
}
