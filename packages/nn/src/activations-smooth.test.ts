import { readFileSync } from "node:fs";
import { fromTypedArray, Rng, type Tensor, transpose, zeros } from "@nabla/ndarray";
import { describe, expect, it } from "vitest";
import { ReLU } from "./activations.js";
import { erf, GELU, LeakyReLU, Sigmoid, Tanh } from "./activations-smooth.js";
import { buildSequential, planLayers } from "./layers.js";
import type { Module } from "./module.js";
import { checkModuleGradients } from "./module-checks.js";

type Pair = { y: number[]; dx: number[] };
const fixture: {
  activations: { shape: number[]; x: number[]; upstream: number[] } & Record<string, Pair | number[]>;
  erf: { x: number[]; erf: number[] };
} = JSON.parse(
  readFileSync(new URL("../test/fixtures/torch-batchnorm2d-activations.json", import.meta.url), "utf8"),
);

const f64 = (values: number[], shape: number[]): Tensor => fromTypedArray(Float64Array.from(values), shape);

function normal(rng: Rng, shape: number[], std = 1, dtype: "float32" | "float64" = "float64"): Tensor {
  const t = zeros(shape, dtype);
  rng.fillNormal(t, 0, std);
  return t;
}

const layers: [string, () => Module][] = [
  ["tanh", () => new Tanh()],
  ["sigmoid", () => new Sigmoid()],
  ["leakyrelu", () => new LeakyReLU()],
  ["leakyrelu0.2", () => new LeakyReLU({ negativeSlope: 0.2 })],
  ["gelu", () => new GELU()],
];

/** The float64 ulp distance between a and b (0 when equal). */
function ulps(a: number, b: number): number {
  const bits = new BigInt64Array(new Float64Array([a, b]).buffer);
  return Math.abs(Number(bits[0] - bits[1]));
}

describe("erf", () => {
  it("is within one ulp of the correctly rounded value (mpmath, 50 digits) across every branch", () => {
    const { x, erf: expected } = fixture.erf;
    expect(x.length).toBeGreaterThan(600);
    let exact = 0;
    x.forEach((v, i) => {
      const got = erf(v);
      expect(ulps(got, expected[i]), `erf(${v}) = ${got}, expected ${expected[i]}`).toBeLessThanOrEqual(1);
      if (got === expected[i]) exact++;
    });
    expect(exact / x.length).toBeGreaterThan(0.95); // mostly correctly rounded, as fdlibm's
  });

  it("matches published values, is odd, and handles 0, ±∞ and NaN", () => {
    // Abramowitz & Stegun table 7.1 / DLMF, rounded to double
    const known: [number, number][] = [
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [1.5, 0.9661051464753108],
      [2, 0.9953222650189527],
      [3, 0.9999779095030014],
      [4, 0.9999999845827421],
    ];
    for (const [x, value] of known) {
      expect(Math.abs(erf(x) - value) / value, `erf(${x})`).toBeLessThan(1e-15);
      expect(erf(-x)).toBe(-erf(x));
    }
    expect(Object.is(erf(0), 0)).toBe(true);
    expect(Object.is(erf(-0), -0)).toBe(true);
    expect(erf(Number.POSITIVE_INFINITY)).toBe(1);
    expect(erf(Number.NEGATIVE_INFINITY)).toBe(-1);
    expect(erf(6)).toBe(1);
    expect(erf(1e-300)).toBe(1e-300 * (2 / Math.sqrt(Math.PI)));
    expect(Number.isNaN(erf(Number.NaN))).toBe(true);
  });
});

describe("Tanh, Sigmoid, LeakyReLU and GELU agree with PyTorch (float64)", () => {
  it.each(layers)(
    "%s: forward and input gradient on [2, 3, 4, 5], including 0, ±1e-9 and ±40",
    (name, make) => {
      const a = fixture.activations;
      const expected = a[name] as Pair;
      const layer = make();
      const y = layer.forward(f64(a.x, a.shape));
      const dx = layer.backward(f64(a.upstream, a.shape)) as Tensor;
      expect(y.shape).toEqual(a.shape);
      for (const [got, want, what] of [
        [y.data, expected.y, "y"],
        [dx.data, expected.dx, "dx"],
      ] as const) {
        for (let i = 0; i < want.length; i++) {
          expect(Math.abs(got[i] - want[i]), `${what}[${i}] at x = ${a.x[i]}`).toBeLessThan(1e-12);
        }
      }
    },
  );
});

describe("gradients (float64 central differences)", () => {
  it.each(layers)("%s over 2-D, 3-D and 4-D batches", (name, make) => {
    for (const shape of [
      [1, 1],
      [3, 4],
      [2, 3, 5],
      [2, 2, 3, 3],
    ]) {
      const rng = new Rng(shape.length * 31 + shape[shape.length - 1]);
      const x = normal(rng, shape, 2);
      // LeakyReLU has a kink at 0: keep the inputs 1e-3 away from it, as ReLU's check does
      if (name.startsWith("leakyrelu"))
        for (let i = 0; i < x.size; i++) x.data[i] += x.data[i] >= 0 ? 1e-3 : -1e-3;
      const [c] = checkModuleGradients(make(), x, { seed: 7, name });
      expect(c.wrt).toBe("input");
      expect(c.maxRelativeError, `${name} [${shape}]`).toBeLessThan(1e-6);
    }
  });
});

describe("element-wise behaviour", () => {
  it.each(layers)("%s: float32, reused buffers, unchanged input, strided input and dY", (_name, make) => {
    const rng = new Rng(2);
    const x = normal(rng, [3, 4], 2, "float32");
    const before = Array.from(x.data);
    const layer = make();
    const y = layer.forward(x);
    expect(y.data).toBeInstanceOf(Float32Array);
    expect(Array.from(x.data)).toEqual(before);
    const g = normal(rng, [3, 4], 1, "float32");
    const dx = layer.backward(g) as Tensor;
    expect(layer.forward(x)).toBe(y);
    expect(layer.backward(g)).toBe(dx);
    // a transposed view holds the same values as this contiguous copy
    const xt = normal(rng, [4, 3]);
    const gt = normal(rng, [4, 3]);
    const copy = (t: Tensor) => {
      const c = zeros([3, 4], "float64");
      for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) c.data[i * 4 + j] = t.data[j * 3 + i];
      return c;
    };
    const strided = make();
    const ys = Array.from(strided.forward(transpose(xt)).data);
    const dxs = Array.from((strided.backward(transpose(gt)) as Tensor).data);
    const plain = make();
    expect(ys).toEqual(Array.from(plain.forward(copy(xt)).data));
    expect(dxs).toEqual(Array.from((plain.backward(copy(gt)) as Tensor).data));
  });

  it("saturate without NaN: tanh and sigmoid at ±1e3, GELU at ±40", () => {
    const x = f64([-1e3, 1e3, -40, 40], [1, 4]);
    const ones = f64([1, 1, 1, 1], [1, 4]);
    const tanh = new Tanh();
    expect(Array.from(tanh.forward(x).data)).toEqual([-1, 1, -1, 1]);
    expect(Array.from((tanh.backward(ones) as Tensor).data)).toEqual([0, 0, 0, 0]);
    const sigmoid = new Sigmoid();
    expect(Array.from(sigmoid.forward(x).data)).toEqual([0, 1, 1 / (1 + Math.exp(40)), 1]);
    expect(Array.from((sigmoid.backward(ones) as Tensor).data).every((v) => v >= 0 && v < 1e-17)).toBe(true);
    const gelu = new GELU();
    expect(Array.from(gelu.forward(x).data)).toEqual([-0, 1e3, -0, 40]);
    expect(Array.from((gelu.backward(ones) as Tensor).data)).toEqual([0, 1, 0, 1]);
  });

  it("LeakyReLU: slope 0.01 by default, 0 at the kink takes the slope, slope 0 is ReLU, negatives refused", () => {
    const x = f64([-2, 0, 3], [1, 3]);
    const leaky = new LeakyReLU();
    expect(leaky.negativeSlope).toBe(0.01);
    expect(Array.from(leaky.forward(x).data)).toEqual([-0.02, 0, 3]);
    expect(Array.from((leaky.backward(f64([1, 1, 1], [1, 3])) as Tensor).data)).toEqual([0.01, 0.01, 1]);
    const rng = new Rng(6);
    const z = normal(rng, [4, 5]);
    const g = normal(rng, [4, 5]);
    const [a, r] = [new LeakyReLU({ negativeSlope: 0 }), new ReLU()];
    // 0·x and 0·dy are −0 where negative (as in PyTorch), where ReLU gives 0: equal as numbers
    const numbers = (t: Tensor) => Array.from(t.data).map((v) => v + 0);
    expect(numbers(a.forward(z))).toEqual(numbers(r.forward(z)));
    expect(numbers(a.backward(g) as Tensor)).toEqual(numbers(r.backward(g)));
    expect(() => new LeakyReLU({ negativeSlope: -0.1 })).toThrow(
      /LeakyReLU: negativeSlope must be a finite number ≥ 0, got -0.1/,
    );
    expect(() => new LeakyReLU({ negativeSlope: Number.NaN })).toThrow(/negativeSlope/);
  });

  it("reject bad inputs with one-line errors", () => {
    for (const [name, make] of layers) {
      const layer = make();
      const label = name.startsWith("leakyrelu") ? "LeakyReLU" : layer.constructor.name;
      expect(() => layer.backward(zeros([1, 2], "float64"))).toThrow(
        `${label}.backward: called before forward`,
      );
      expect(() => layer.forward(zeros([3], "float64"))).toThrow(/expected a batch \[N, \.\.\.sample\]/);
      layer.forward(zeros([2, 2], "float64"));
      expect(() => layer.backward(zeros([2, 3], "float64"))).toThrow(/dY must have shape \[2,2\]/);
      expect(() => layer.backward(zeros([2, 2], "float32"))).toThrow(/dY: expected a float64 tensor/);
    }
  });
});

describe("the tanh, sigmoid, gelu and leakyrelu layers", () => {
  it("take bare names; leakyrelu also a slope or { negativeSlope }; each keeps its input's shape", () => {
    const spec = [
      "tanh",
      "sigmoid",
      "gelu",
      "leakyrelu",
      { leakyrelu: 0.2 },
      { leakyrelu: { negativeSlope: 0.3 } },
    ];
    const plan = planLayers(spec, [2, 3, 4]);
    for (const l of plan.layers) {
      expect([l.outShape, l.parameters, l.buffers, l.activations]).toEqual([[2, 3, 4], 0, 0, 48]);
    }
    const model = buildSequential(spec, { inputShape: [2, 3, 4], seed: 0, dtype: "float64" });
    expect(model.modules.map((m) => m.constructor.name)).toEqual([
      "Tanh",
      "Sigmoid",
      "GELU",
      "LeakyReLU",
      "LeakyReLU",
      "LeakyReLU",
    ]);
    expect(model.modules.slice(3).map((m) => (m as LeakyReLU).negativeSlope)).toEqual([0.01, 0.2, 0.3]);
    expect(model.forward(normal(new Rng(1), [5, 2, 3, 4])).shape).toEqual([5, 2, 3, 4]);
    expect(model.parameters()).toEqual([]);
  });

  it("refuse options they do not have and negative slopes", () => {
    expect(() => planLayers([{ tanh: { x: 1 } }], [3])).toThrow(/layers\[0\]: tanh: expected no options/);
    expect(() => planLayers([{ gelu: { approximate: "tanh" } }], [3])).toThrow(/gelu/);
    expect(() => planLayers([{ leakyrelu: -0.1 }], [3])).toThrow(/layers\[0\]: leakyrelu/);
    expect(() => planLayers([{ leakyrelu: { slope: 0.1 } }], [3])).toThrow(/leakyrelu/);
  });
});
