import { readFileSync } from "node:fs";
import { contiguous, type DType, fromTypedArray, Rng, type Tensor, zeros } from "@nabla/ndarray";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PROPERTY } from "../test/helpers.js";
import { AdaptiveAvgPool2d, AvgPool2d } from "./avg-pooling.js";
import { buildSequential, parseLayers, planLayers } from "./layers.js";
import type { Module } from "./module.js";
import { checkModuleGradients } from "./module-checks.js";
import { MaxPool2d, type Size2, size2 } from "./pooling.js";

type Kind = "maxpool2d" | "avgpool2d" | "adaptiveavgpool2d";
interface Config {
  kernel?: Size2;
  stride?: Size2;
  padding?: Size2;
  out?: Size2;
}
interface Case {
  name: string;
  kind: Kind;
  config: Config;
  shape: number[];
  outShape: number[];
  x: number[];
  upstream: number[];
  y: number[];
  dx: number[];
  indices?: number[];
}
const fixture: { cases: Case[] } = JSON.parse(
  readFileSync(new URL("../test/fixtures/torch-pooling.json", import.meta.url), "utf8"),
);

function make(kind: Kind, config: Config): MaxPool2d | AvgPool2d | AdaptiveAvgPool2d {
  if (kind === "adaptiveavgpool2d") return new AdaptiveAvgPool2d(config.out);
  const { kernel, ...opts } = config;
  return kind === "maxpool2d" ? new MaxPool2d(kernel as Size2, opts) : new AvgPool2d(kernel as Size2, opts);
}

function tensor(values: ArrayLike<number>, shape: number[], dtype: DType = "float64"): Tensor {
  return fromTypedArray(dtype === "float64" ? Float64Array.from(values) : Float32Array.from(values), shape);
}

function maxDiff(actual: Tensor, expected: ArrayLike<number>): number {
  expect(actual.size).toBe(expected.length);
  let d = 0;
  for (let i = 0; i < expected.length; i++)
    d = Math.max(d, Math.abs(actual.data[actual.offset + i] - expected[i]));
  return d;
}

/** The plainest loops of PyTorch's definitions, in float64, as a second implementation to compare with. */
function reference(kind: Kind, config: Config, x: Tensor, g: (outShape: number[]) => Tensor) {
  const [n, c, h, w] = x.shape;
  const [kh, kw] = size2(config.kernel ?? 1);
  const [sh, sw] = size2(config.stride ?? config.kernel ?? 1);
  const [ph, pw] = size2(config.padding ?? 0);
  const [oh, ow] =
    kind === "adaptiveavgpool2d"
      ? size2(config.out ?? 1)
      : [Math.floor((h + 2 * ph - kh) / sh) + 1, Math.floor((w + 2 * pw - kw) / sw) + 1];
  const y: number[] = [];
  const indices: number[] = [];
  const windows: { plane: number; cells: number[]; scale: number }[] = [];
  for (let p = 0; p < n * c; p++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        let rows = [i * sh - ph, i * sh - ph + kh];
        let cols = [j * sw - pw, j * sw - pw + kw];
        if (kind === "adaptiveavgpool2d") {
          rows = [Math.floor((i * h) / oh), Math.ceil(((i + 1) * h) / oh)];
          cols = [Math.floor((j * w) / ow), Math.ceil(((j + 1) * w) / ow)];
        }
        const cells: number[] = [];
        for (let r = Math.max(rows[0], 0); r < Math.min(rows[1], h); r++)
          for (let q = Math.max(cols[0], 0); q < Math.min(cols[1], w); q++) cells.push(r * w + q);
        const values = cells.map((k) => x.data[p * h * w + k]);
        if (kind === "maxpool2d") {
          const best = values.indexOf(Math.max(...values)); // the first maximum
          y.push(values[best]);
          indices.push(cells[best]);
          windows.push({ plane: p, cells: [cells[best]], scale: 1 });
        } else {
          const count = kind === "avgpool2d" ? kh * kw : (rows[1] - rows[0]) * (cols[1] - cols[0]);
          y.push(values.reduce((s, v) => s + v, 0) / count);
          windows.push({ plane: p, cells, scale: 1 / count });
        }
      }
  const upstream = g([n, c, oh, ow]);
  const dx = new Float64Array(n * c * h * w);
  windows.forEach((win, o) => {
    for (const k of win.cells) dx[win.plane * h * w + k] += upstream.data[o] * win.scale;
  });
  return { y, indices, upstream, dx, outShape: [n, c, oh, ow] };
}

describe("pooling against PyTorch (float64, test/fixtures/torch-pooling.json)", () => {
  it.each(fixture.cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const layer = make(c.kind, c.config);
    const y = layer.forward(tensor(c.x, c.shape));
    expect(y.shape).toEqual(c.outShape);
    expect(maxDiff(y, c.y)).toBeLessThan(1e-12);
    if (c.indices !== undefined) expect(Array.from((layer as MaxPool2d).indices ?? [])).toEqual(c.indices);
    const dx = layer.backward(tensor(c.upstream, c.outShape));
    expect(dx.shape).toEqual(c.shape);
    expect(maxDiff(dx, c.dx)).toBeLessThan(1e-12);
  });
});

/** Distinct values 0.01 apart in random order: no ties, and no maximum changes under a 1e-5 step. */
function distinct(rng: Rng, shape: number[]): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: size }, (_, i) => i * 0.01 - size * 0.005);
  for (let i = size - 1; i > 0; i--) {
    const k = rng.nextUint32() % (i + 1);
    [values[i], values[k]] = [values[k], values[i]];
  }
  return tensor(values, shape);
}

describe("pooling gradients (float64 central differences)", () => {
  const windows: [string, Config, number[]][] = [
    ["kernel 2", { kernel: 2 }, [2, 2, 4, 6]],
    ["kernel 2, odd sizes", { kernel: 2 }, [1, 2, 5, 7]],
    ["kernel 3, stride 2, padding 1 (overlap)", { kernel: 3, stride: 2, padding: 1 }, [2, 2, 7, 5]],
    ["kernel 3, stride 1 (overlap)", { kernel: 3, stride: 1 }, [1, 2, 5, 6]],
    [
      "kernel [2, 3], stride [1, 2], padding [1, 1]",
      { kernel: [2, 3], stride: [1, 2], padding: [1, 1] },
      [1, 2, 5, 7],
    ],
  ];
  it.each(windows)("MaxPool2d, %s", (_name, config, shape) => {
    const [c] = checkModuleGradients(make("maxpool2d", config), distinct(new Rng(shape[3]), shape));
    expect(c.maxRelativeError).toBeLessThan(1e-6);
  });
  it.each(windows)("AvgPool2d, %s", (_name, config, shape) => {
    const x = zeros(shape, "float64");
    new Rng(shape[2]).fillNormal(x, 0, 1);
    const [c] = checkModuleGradients(make("avgpool2d", config), x);
    expect(c.maxRelativeError).toBeLessThan(1e-6);
  });
  it.each([
    [1, [2, 3, 5, 7]],
    [
      [3, 2],
      [2, 2, 7, 5],
    ],
    [4, [1, 2, 3, 3]],
  ] as [Size2, number[]][])("AdaptiveAvgPool2d(%j) on %j", (out, shape) => {
    const x = zeros(shape, "float64");
    new Rng(7).fillNormal(x, 0, 1);
    const [c] = checkModuleGradients(new AdaptiveAvgPool2d(out), x);
    expect(c.maxRelativeError).toBeLessThan(1e-6);
  });
});

describe("MaxPool2d ties and NaNs", () => {
  it("sends the gradient of a tied window to its first maximum in row-major order", () => {
    const halving = new MaxPool2d(2);
    // Two 2×2 windows: all equal (first element wins), and 2 at positions 1, 2, 3 (position 1 wins).
    halving.forward(tensor([1, 1, 0, 2, 1, 1, 2, 2], [1, 1, 2, 4]));
    expect(Array.from(halving.indices ?? [])).toEqual([0, 3]);
    expect(Array.from(halving.backward(tensor([5, 7], [1, 1, 1, 2])).data)).toEqual([5, 0, 0, 7, 0, 0, 0, 0]);
    // Overlapping 3×3 windows (stride 1, padding 1) on a constant 3×3 plane: each window's first in-range
    // element wins, and the gradients of the windows that share it add up.
    const overlap = new MaxPool2d(3, { stride: 1, padding: 1 });
    overlap.forward(tensor(new Array(9).fill(5), [1, 1, 3, 3]));
    expect(Array.from(overlap.indices ?? [])).toEqual([0, 0, 1, 0, 0, 1, 3, 3, 4]);
    const dx = overlap.backward(tensor(new Array(9).fill(1), [1, 1, 3, 3]));
    expect(Array.from(dx.data)).toEqual([4, 2, 0, 2, 1, 0, 0, 0, 0]);
  });

  it("matches the plainest first-maximum loops on small-integer inputs (many ties), float32", () => {
    const geometry = fc
      .record({
        n: fc.integer({ min: 1, max: 2 }),
        c: fc.integer({ min: 1, max: 3 }),
        h: fc.integer({ min: 1, max: 9 }),
        w: fc.integer({ min: 1, max: 9 }),
        kernel: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
        stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
        pad: fc.tuple(fc.nat(), fc.nat()),
        halving: fc.boolean(),
        seed: fc.nat(),
      })
      .map((g) => (g.halving ? { ...g, kernel: [2, 2] as const, stride: [2, 2] as const } : g));
    fc.assert(
      fc.property(geometry, (g) => {
        const padding = [0, 1].map((a) => g.pad[a] % (Math.floor(g.kernel[a] / 2) + 1)) as [number, number];
        const config = g.halving ? { kernel: 2 } : { kernel: g.kernel, stride: g.stride, padding };
        const [kh, kw] = size2(config.kernel);
        const [ph, pw] = size2(config.padding ?? 0);
        if (g.h + 2 * ph < kh || g.w + 2 * pw < kw) return;
        const rng = new Rng(g.seed);
        const shape = [g.n, g.c, g.h, g.w];
        const x = tensor(
          Array.from({ length: g.n * g.c * g.h * g.w }, () => rng.nextUint32() % 3),
          shape,
          "float32",
        );
        const want = reference("maxpool2d", config, x, (s) =>
          tensor(
            Array.from({ length: s.reduce((a, b) => a * b) }, () => 1 + (rng.nextUint32() % 4)),
            s,
            "float32",
          ),
        );
        const layer = new MaxPool2d(config.kernel, config);
        expect(Array.from(layer.forward(x).data)).toEqual(want.y);
        expect(Array.from(layer.indices ?? [])).toEqual(want.indices);
        expect(Array.from(layer.backward(want.upstream).data)).toEqual(Array.from(want.dx));
      }),
      PROPERTY,
    );
  });

  it("propagates NaN as PyTorch does: the last NaN of a window is its maximum", () => {
    // Checked against torch 1.13: max_pool2d of [[nan, 5], [nan, 1]] is nan at index 2.
    for (const layer of [new MaxPool2d(2), new MaxPool2d(2, { stride: 1 })]) {
      const y = layer.forward(tensor([Number.NaN, 5, Number.NaN, 1, 1, 2, 3, 4], [1, 2, 2, 2]));
      expect(Array.from(y.data)).toEqual([Number.NaN, 4]);
      expect(Array.from(layer.indices ?? [])).toEqual([2, 3]);
    }
    const row = new MaxPool2d([1, 6]);
    row.forward(tensor([1, Number.NaN, 3, Number.NaN, 2, 0], [1, 1, 1, 6]));
    expect(Array.from(row.indices ?? [])).toEqual([3]);
  });
});

describe("pooling buffers, layouts and errors", () => {
  it("reads strided inputs and upstream gradients like their contiguous copies; reuses its buffers", () => {
    const rng = new Rng(4);
    const base = zeros([2, 3, 6, 5], "float64");
    rng.fillNormal(base, 0, 1);
    const strided = base.transpose(0, 1, 3, 2); // [2, 3, 5, 6], not contiguous
    for (const kind of ["maxpool2d", "avgpool2d", "adaptiveavgpool2d"] as const) {
      const config = { kernel: 2, out: [2, 3] as const };
      const a = make(kind, config);
      const b = make(kind, config);
      const ya = a.forward(strided);
      expect(Array.from(ya.data)).toEqual(Array.from(b.forward(contiguous(strided)).data));
      const g = zeros([ya.shape[0], ya.shape[1], ya.shape[3], ya.shape[2]], "float64");
      rng.fillNormal(g, 0, 1);
      const gt = g.transpose(0, 1, 3, 2);
      const gc = contiguous(gt);
      const dxa = a.backward(gt);
      expect(Array.from(dxa.data)).toEqual(Array.from(b.backward(gc).data));
      expect(a.forward(strided)).toBe(ya);
      expect(a.backward(gt)).toBe(dxa);
    }
  });

  it("names what is wrong in one line", () => {
    expect(() => new MaxPool2d(2, { padding: 2 })).toThrow(
      /MaxPool2d: padding must be at most half the kernel/,
    );
    expect(() => new AvgPool2d(0)).toThrow(/AvgPool2d: kernel must be a positive integer/);
    expect(() => new AdaptiveAvgPool2d(0)).toThrow(
      /AdaptiveAvgPool2d: output size must be a positive integer/,
    );
    const pool = new MaxPool2d(2);
    expect(() => pool.backward(zeros([1, 1, 1, 1], "float64"))).toThrow(
      "MaxPool2d.backward: called before forward",
    );
    expect(() => pool.forward(zeros([4, 3], "float64"))).toThrow(
      "MaxPool2d.forward: input: expected a 4-D [N, C, H, W] tensor, got shape [4,3]",
    );
    expect(() => new AvgPool2d(3, { padding: [0, 1] }).forward(zeros([1, 2, 2, 5]))).toThrow(
      "AvgPool2d.forward: input: a 3×3 window with padding 0×1 does not fit a 2×5 input",
    );
    pool.forward(zeros([1, 2, 4, 4]));
    expect(() => pool.backward(zeros([1, 2, 4, 4]))).toThrow(
      /dY must have shape \[1,2,2,2\], got \[1,2,4,4\]/,
    );
    expect(() => pool.backward(zeros([1, 2, 2, 2], "float64"))).toThrow(
      /expected a float32 tensor, got float64/,
    );
  });
});

describe("pooling layer specs", () => {
  it("plan shapes and activations per sample", () => {
    const plan = planLayers(
      [
        { maxpool2d: 2 },
        { maxpool2d: { kernel: 3, stride: 2, padding: 1 } },
        { avgpool2d: [2, 3] },
        { avgpool2d: { kernel: 1 } },
        "adaptiveavgpool2d",
        { adaptiveavgpool2d: [2, 3] },
        { adaptiveavgpool2d: { out: 4 } },
      ],
      [3, 32, 32],
    );
    expect(plan.layers.map((l) => l.outShape)).toEqual([
      [3, 16, 16],
      [3, 8, 8],
      [3, 4, 2],
      [3, 4, 2],
      [3, 1, 1],
      [3, 2, 3],
      [3, 4, 4],
    ]);
    expect(planLayers([{ maxpool2d: 2 }], [3, 32, 32]).outShape).toEqual([3, 16, 16]);
    // output + input gradient, plus the argmax of each output for max pooling
    expect(plan.layers[0].activations).toBe(2 * 768 + 3072);
    expect(plan.layers[2].activations).toBe(24 + 192);
    expect(plan.parameters).toBe(0);
    expect(parseLayers(["adaptiveavgpool2d", { maxpool2d: [2, 3] }])).toEqual([
      { name: "adaptiveavgpool2d", config: {} },
      { name: "maxpool2d", config: { kernel: [2, 3] } },
    ]);
  });

  it("reject inputs that are not images, windows that do not fit and bad configs", () => {
    expect(() => planLayers([{ maxpool2d: 2 }], [3072])).toThrow(
      "planLayers: layers[0] (maxpool2d): expected an image input [C, H, W], got [3072]",
    );
    expect(() => planLayers(["relu", "adaptiveavgpool2d"], [4, 4])).toThrow(
      "planLayers: layers[1] (adaptiveavgpool2d): expected an image input [C, H, W], got [4, 4]",
    );
    expect(() => planLayers([{ avgpool2d: 2 }, { avgpool2d: 5 }], [3, 8, 8])).toThrow(
      "planLayers: layers[1] (avgpool2d): a 5×5 window with padding 0×0 does not fit a 4×4 input",
    );
    expect(() => parseLayers([{ maxpool2d: { kernel: 2, padding: 2 } }])).toThrow(
      /layers\[0\]: maxpool2d: padding must be at most half the kernel/,
    );
    expect(() => parseLayers(["maxpool2d"])).toThrow(
      /maxpool2d \(the bare name means maxpool2d: \{\}\): expected a kernel/,
    );
    expect(() => parseLayers([{ avgpool2d: { kernel: 2, dilation: 2 } }])).toThrow(
      /layers\[0\]: avgpool2d: /,
    );
    expect(() => parseLayers([{ adaptiveavgpool2d: 0 }])).toThrow(/layers\[0\]: adaptiveavgpool2d: /);
  });

  it("build a model whose input gradient passes every check, with stable buffers", () => {
    // Max pools before the average: a max over averages of distinct values can tie, and a tie has no gradient.
    const model: Module = buildSequential(
      [
        { maxpool2d: 2 },
        { maxpool2d: { kernel: 3, stride: 1, padding: 1 } },
        { avgpool2d: 2 },
        "adaptiveavgpool2d",
        "flatten",
        { linear: 3 },
      ],
      { inputShape: [2, 8, 12], seed: 3, dtype: "float64", computeInputGrad: true },
    );
    const x = distinct(new Rng(11), [2, 2, 8, 12]);
    const [input] = checkModuleGradients(model, x);
    expect(input.maxRelativeError).toBeLessThan(1e-6);
    const y = model.forward(x);
    expect(y.shape).toEqual([2, 3]);
    const dx = model.backward(y);
    expect(model.forward(x)).toBe(y);
    expect(model.backward(y)).toBe(dx);
  });
});

describe("average pooling against the plainest loops (float64)", () => {
  it("AvgPool2d and AdaptiveAvgPool2d over random shapes and windows", () => {
    fc.assert(
      fc.property(
        fc.record({
          h: fc.integer({ min: 3, max: 9 }),
          w: fc.integer({ min: 3, max: 9 }),
          k: fc.integer({ min: 1, max: 3 }),
          s: fc.integer({ min: 1, max: 3 }),
          out: fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 })),
          seed: fc.nat(),
        }),
        ({ h, w, k, s, out, seed }) => {
          const rng = new Rng(seed);
          const x = zeros([2, 2, h, w], "float64");
          rng.fillNormal(x, 0, 1);
          const cases: [Kind, Config][] = [
            ["avgpool2d", { kernel: k, stride: s, padding: k >> 1 }],
            ["adaptiveavgpool2d", { out }],
          ];
          for (const [kind, config] of cases) {
            const want = reference(kind, config, x, (shape) => {
              const g = zeros(shape, "float64");
              rng.fillNormal(g, 0, 1);
              return g;
            });
            const layer = make(kind, config);
            expect(maxDiff(layer.forward(x), want.y)).toBeLessThan(1e-12);
            expect(maxDiff(layer.backward(want.upstream), want.dx)).toBeLessThan(1e-12);
          }
        },
      ),
      PROPERTY,
    );
  });
});
