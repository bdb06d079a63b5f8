import { readFileSync } from "node:fs";
import * as ndarray from "@nabla/ndarray";
import { fromArray, Rng, type Tensor, zeros } from "@nabla/ndarray";
import { describe, expect, it, vi } from "vitest";
import { Conv2d, type Conv2dOptions, conv2dInitBound } from "./conv2d.js";
import { NnError } from "./errors.js";
import { buildSequential, parseLayers, planLayers } from "./layers.js";
import { checkModuleGradients } from "./module-checks.js";

// Counts the tensors the layer creates (its buffers come from residentZeros, its parameters from zeros).
vi.mock("@nabla/ndarray", async (importOriginal) => {
  const original = await importOriginal<typeof import("@nabla/ndarray")>();
  return { ...original, zeros: vi.fn(original.zeros), residentZeros: vi.fn(original.residentZeros) };
});

interface TorchCase {
  name: string;
  batch: number;
  in: number;
  out: number;
  hw: [number, number];
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  x: number[];
  weight: number[];
  bias: number[] | null;
  upstream: number[];
  outShape: number[];
  y: number[];
  dx: number[];
  dweight: number[];
  dbias: number[] | null;
}
interface TorchInit {
  in: number;
  out: number;
  kernel: [number, number];
  fanIn: number;
  weightBound: number;
  biasBound: number;
  weightMaxAbs: number;
}
const fixture: { cases: TorchCase[]; init: TorchInit[] } = JSON.parse(
  readFileSync(new URL("../test/fixtures/torch-conv.json", import.meta.url), "utf8"),
);

function tensor(values: number[], shape: number[]): Tensor {
  return fromArray(values, shape, "float64");
}

function expectClose(actual: Tensor, expected: number[], tol: number, what: string): void {
  expect(actual.size, what).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++)
    worst = Math.max(worst, Math.abs(actual.data[actual.offset + i] - expected[i]));
  expect(worst, what).toBeLessThan(tol);
}

function normal(rng: Rng, shape: number[], dtype: "float32" | "float64" = "float64"): Tensor {
  const t = zeros(shape, dtype);
  rng.fillNormal(t);
  return t;
}

describe("Conv2d against PyTorch (float64, test/fixtures/torch-conv.json)", () => {
  for (const c of fixture.cases) {
    it(`${c.name}: output and input, weight and bias gradients to 1e-12`, () => {
      const layer = new Conv2d(c.in, c.out, {
        kernelSize: c.kernel,
        stride: c.stride,
        padding: c.padding,
        dilation: c.dilation,
        bias: c.bias !== null,
        rng: new Rng(0),
        dtype: "float64",
      });
      const dict: Record<string, Tensor> = { weight: tensor(c.weight, [c.out, c.in, ...c.kernel]) };
      if (c.bias !== null) dict.bias = tensor(c.bias, [c.out]);
      layer.loadStateDict(dict);
      layer.zeroGrad();
      const y = layer.forward(tensor(c.x, [c.batch, c.in, ...c.hw]));
      expect(y.shape).toEqual(c.outShape);
      expectClose(y, c.y, 1e-12, "y");
      const dx = layer.backward(tensor(c.upstream, c.outShape)) as Tensor;
      expectClose(dx, c.dx, 1e-12, "dx");
      expectClose(layer.weightGrad, c.dweight, 1e-12, "dweight");
      if (c.dbias !== null) expectClose(layer.biasGrad as Tensor, c.dbias, 1e-12, "dbias");
      else expect(layer.biasGrad).toBeNull();
    });
  }
});

describe("Conv2d gradients (float64 central differences)", () => {
  const configs: [string, number, number, number, number, number, Omit<Conv2dOptions, "rng">][] = [
    ["3x3 padding 1", 2, 3, 4, 5, 5, { kernelSize: 3, padding: 1 }],
    ["stride 2", 2, 2, 3, 7, 6, { kernelSize: 3, stride: 2, padding: 1 }],
    ["dilation 2", 1, 2, 2, 7, 8, { kernelSize: 3, dilation: 2, padding: 1 }],
    ["no bias", 3, 2, 3, 4, 4, { kernelSize: 2, bias: false }],
    [
      "non-square kernel, stride and padding",
      2,
      3,
      2,
      6,
      5,
      { kernelSize: [3, 2], stride: [1, 2], padding: [0, 1] },
    ],
    ["batch 1, 1x1", 1, 4, 3, 3, 2, { kernelSize: 1 }],
  ];
  for (const [name, n, cin, cout, h, w, opts] of configs) {
    it(name, () => {
      const rng = new Rng(cin * 100 + cout * 10 + h);
      const layer = new Conv2d(cin, cout, { ...opts, rng, dtype: "float64" });
      const results = checkModuleGradients(layer, normal(rng, [n, cin, h, w]), { seed: 7, name });
      expect(results.map((r) => r.wrt)).toEqual(
        opts.bias === false ? ["input", "weight"] : ["input", "weight", "bias"],
      );
      for (const r of results) {
        // The loss is linear in each variable, so only rounding separates the two: the error relative to the
        // largest entry (elementwise relative errors of near-zero entries are ill-conditioned).
        const largest = r.analytical.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-3);
        expect(r.maxAbsoluteError / largest, `${name} ${r.wrt}`).toBeLessThan(1e-8);
      }
    });
  }
});

describe("Conv2d initialisation (PyTorch's defaults)", () => {
  it.each(fixture.init)("$in→$out, kernel $kernel: bound 1/√fan_in for weight and bias", (c) => {
    const [kh, kw] = c.kernel;
    const bound = conv2dInitBound(c.in, kh, kw);
    expect(c.fanIn).toBe(c.in * kh * kw);
    expect(bound).toBeCloseTo(c.weightBound, 15);
    expect(bound).toBeCloseTo(c.biasBound, 15);
    for (const dtype of ["float32", "float64"] as const) {
      const layer = new Conv2d(c.in, c.out, { kernelSize: c.kernel, rng: new Rng(3), dtype });
      const w = Array.from(layer.weight.data);
      const b = Array.from((layer.bias as Tensor).data);
      expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(Math.fround(bound));
      expect(Math.max(...b.map(Math.abs))).toBeLessThanOrEqual(Math.fround(bound));
      // As full as torch's own draw of the same layer: the extremes reach close to the bound.
      if (w.length > 1000) expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.99 * c.weightMaxAbs);
      const mean = w.reduce((s, v) => s + v, 0) / w.length;
      expect(Math.abs(mean)).toBeLessThan((4 * bound) / Math.sqrt(3 * w.length));
    }
  });

  it("draws the weight then the bias, row-major, from the init stream", () => {
    const layer = new Conv2d(3, 4, { kernelSize: [2, 3], rng: new Rng(11), dtype: "float64" });
    const rng = new Rng(11);
    const bound = conv2dInitBound(3, 2, 3);
    const w = zeros([4, 3, 2, 3], "float64");
    const b = zeros([4], "float64");
    rng.fillUniform(w, -bound, bound);
    rng.fillUniform(b, -bound, bound);
    expect(Array.from(layer.weight.data)).toEqual(Array.from(w.data));
    expect(Array.from((layer.bias as Tensor).data)).toEqual(Array.from(b.data));
    const noBias = new Conv2d(3, 4, { kernelSize: [2, 3], bias: false, rng: new Rng(11), dtype: "float64" });
    expect(Array.from(noBias.weight.data)).toEqual(Array.from(w.data));
    expect(noBias.parameters().map((p) => p.name)).toEqual(["weight"]);
    expect(Object.keys(layer.stateDict())).toEqual(["weight", "bias"]);
  });
});

describe("Conv2d gradients accumulate like PyTorch's .grad", () => {
  it("two backward passes add; zeroGrad restarts (float32 and float64)", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const rng = new Rng(5);
      const layer = new Conv2d(3, 8, { kernelSize: 3, padding: 1, rng, dtype });
      const x = normal(rng, [4, 3, 10, 10], dtype);
      const g = normal(rng, [4, 8, 10, 10], dtype);
      layer.zeroGrad();
      layer.forward(x);
      layer.backward(g);
      const once = [
        Float64Array.from(layer.weightGrad.data),
        Float64Array.from((layer.biasGrad as Tensor).data),
      ];
      layer.forward(x);
      layer.backward(g);
      expect(Array.from(layer.weightGrad.data)).toEqual(Array.from(once[0], (v) => 2 * v));
      expect(Array.from((layer.biasGrad as Tensor).data)).toEqual(Array.from(once[1], (v) => 2 * v));
      layer.zeroGrad();
      expect(Array.from(layer.weightGrad.data).every((v) => v === 0)).toBe(true);
      layer.zeroGrad();
      layer.forward(x);
      layer.backward(g);
      expect(Array.from(layer.weightGrad.data)).toEqual(Array.from(once[0]));
    }
  });
});

describe("the conv2d layer spec", () => {
  it("plans shapes, parameters, activations and scratch", () => {
    const plan = planLayers(
      [
        { conv2d: { out: 8, kernel: 3, padding: 1 } },
        { conv2d: { out: 4, kernel: [3, 1], stride: 2, bias: false } },
      ],
      [3, 32, 32],
    );
    expect(plan.layers.map((l) => l.outShape)).toEqual([
      [8, 32, 32],
      [4, 15, 16],
    ]);
    expect(plan.layers.map((l) => l.parameters)).toEqual([8 * 27 + 8, 4 * 8 * 3]);
    expect(plan.layers[0].activations).toBe(8 * 32 * 32 + 3 * 32 * 32);
    expect(plan.layers[0].scratch).toBeGreaterThan(0);
  });

  it("rejects flat inputs, kernels that do not fit and configs without out and kernel", () => {
    expect(() => planLayers([{ conv2d: { out: 8, kernel: 3 } }], [3072])).toThrow(
      /layers\[0\] \(conv2d\): expected an input \[channels, height, width\], got \[3072\]/,
    );
    expect(() => planLayers([{ conv2d: { out: 8, kernel: 5 } }], [1, 3, 3])).toThrow(
      /kernel 5 with padding 0 does not fit a 3×3 input/,
    );
    expect(() => planLayers([{ conv2d: { out: 8, kernel: 3, dilation: [2, 1] } }], [1, 4, 9])).toThrow(
      /kernel 3 \(dilation 2×1\) with padding 0 does not fit a 4×9 input/,
    );
    expect(() => parseLayers([{ conv2d: 32 }])).toThrow(/layers\[0\]: conv2d: expected \{ out, kernel/);
    expect(() => parseLayers([{ conv2d: { out: 8 } }])).toThrow(/layers\[0\]: conv2d: kernel/);
    expect(() => parseLayers([{ conv2d: { out: 8, kernel: 3, padding: -1 } }])).toThrow(/padding/);
  });

  it("skips dX as the first layer unless computeInputGrad, and draws from the model's seed", () => {
    const layers = [{ conv2d: { out: 4, kernel: 3, padding: 1 } }, "relu", { conv2d: { out: 2, kernel: 3 } }];
    const x = normal(new Rng(1), [2, 3, 6, 6]);
    for (const computeInputGrad of [false, true]) {
      const model = buildSequential(layers, {
        inputShape: [3, 6, 6],
        seed: 9,
        dtype: "float64",
        computeInputGrad,
      });
      const y = model.forward(x);
      expect(y.shape).toEqual([2, 2, 4, 4]);
      const dx = model.backward(normal(new Rng(2), [2, 2, 4, 4]));
      expect(dx === null).toBe(!computeInputGrad);
      const first = new Conv2d(3, 4, { kernelSize: 3, padding: 1, rng: new Rng(9), dtype: "float64" });
      expect(Array.from(model.stateDict()["0.weight"].data)).toEqual(Array.from(first.weight.data));
    }
  });

  it("throws one-line NnErrors for inputs of the wrong shape or dtype", () => {
    const layer = new Conv2d(3, 4, { kernelSize: 3, rng: new Rng(0) });
    expect(() => layer.forward(zeros([2, 4, 8, 8]))).toThrow(NnError);
    expect(() => layer.forward(zeros([2, 4, 8, 8]))).toThrow(
      /expected \[N, 3, height, width\], got \[2,4,8,8\]/,
    );
    expect(() => layer.forward(zeros([2, 3, 2, 8]))).toThrow(/does not fit a 2×8 input/);
    expect(() => layer.forward(zeros([2, 3, 8, 8], "float64"))).toThrow(/expected a float32 tensor/);
    expect(() => layer.backward(zeros([2, 4, 6, 6]))).toThrow(/called before forward/);
    expect(() => new Conv2d(3, 4, { kernelSize: 0, rng: new Rng(0) })).toThrow(
      /kernelSize must be a positive/,
    );
    expect(() => new Conv2d(3, 4, { kernelSize: 3, padding: -1, rng: new Rng(0) })).toThrow(
      /padding must be/,
    );
  });
});

describe("Conv2d on strided views", () => {
  it("copies a permuted input and output gradient and gives the contiguous results", () => {
    const rng = new Rng(6);
    const layer = new Conv2d(4, 4, { kernelSize: 3, padding: 1, rng, dtype: "float64" });
    const x = normal(rng, [2, 4, 5, 5]);
    const g = normal(rng, [2, 4, 5, 5]);
    // The same values, stored [N, H, W, C]: views with the NCHW shape but other strides.
    const permuted = (t: Tensor) => {
      const nhwc = zeros([2, 5, 5, 4], "float64");
      for (let n = 0; n < 2; n++)
        for (let c = 0; c < 4; c++)
          for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) nhwc.set(n, i, j, c, t.get(n, c, i, j));
      return nhwc.transpose(0, 3, 1, 2);
    };
    const run = (input: Tensor, grad: Tensor) => {
      layer.zeroGrad();
      const y = Array.from(layer.forward(input).data);
      const dx = Array.from((layer.backward(grad) as Tensor).data);
      return [y, dx, Array.from(layer.weightGrad.data), Array.from((layer.biasGrad as Tensor).data)];
    };
    expect(run(permuted(x), permuted(g))).toEqual(run(x, g));
  });
});

describe("Conv2d allocation", () => {
  it("a training step of a fixed batch creates no tensors after the first (float32 and float64)", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const rng = new Rng(4);
      const model = buildSequential(
        [{ conv2d: { out: 8, kernel: 3, padding: 1 } }, "relu", { conv2d: { out: 4, kernel: 3, stride: 2 } }],
        { inputShape: [3, 12, 12], seed: 1, dtype },
      );
      const x = normal(rng, [4, 3, 12, 12], dtype);
      const g = normal(rng, [4, 4, 5, 5], dtype);
      const step = () => {
        model.zeroGrad();
        model.forward(x);
        model.backward(g);
        for (const p of model.parameters()) p.grad.data[0] += 0; // reads every (deferred) gradient
      };
      step();
      const calls = () =>
        vi.mocked(ndarray.zeros).mock.calls.length + vi.mocked(ndarray.residentZeros).mock.calls.length;
      const after = calls();
      for (let i = 0; i < 3; i++) step();
      expect(calls()).toBe(after);
    }
  });
});
