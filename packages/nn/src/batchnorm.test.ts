import { readFileSync } from "node:fs";
import { fromArray, Rng, type Tensor } from "@nabla/ndarray";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normalTensor, PROPERTY, toRows } from "../test/helpers.js";
import { BatchNorm1d } from "./batchnorm.js";
import { checkModuleGradients } from "./module-checks.js";

interface Step {
  x: number[][];
  upstream: number[][];
  y: number[][];
  dx: number[][];
  dweight: number[];
  dbias: number[];
}
interface Fixture {
  batchnorm: {
    features: number;
    initial: { weight: number[]; bias: number[] };
    steps: (Step & { running_mean: number[]; running_var: number[]; num_batches_tracked: number })[];
    eval: Step;
  };
}
const fixture: Fixture = JSON.parse(
  readFileSync(new URL("../test/fixtures/torch-layers.json", import.meta.url), "utf8"),
);

const f64 = (rows: number[][]): Tensor => fromArray(rows, undefined, "float64");

function expectClose(actual: ArrayLike<number> | number[][], expected: number[] | number[][], tol = 1e-12) {
  const a = Array.isArray(actual) ? (actual as number[][]).flat() : Array.from(actual as ArrayLike<number>);
  const e = expected.flat();
  expect(a.length).toBe(e.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - e[i]), `entry ${i}`).toBeLessThan(tol);
}

/** A float64 BatchNorm1d with random γ, β and non-trivial running statistics. */
function randomLayer(rng: Rng, features: number, opts: { affine?: boolean; eps?: number } = {}): BatchNorm1d {
  const bn = new BatchNorm1d(features, { dtype: "float64", ...opts });
  rng.fillNormal(bn.weight, 1, 0.5);
  rng.fillNormal(bn.bias, 0, 0.5);
  rng.fillNormal(bn.runningMean, 0, 1);
  rng.fillUniform(bn.runningVar, 0.5, 2);
  return bn;
}

describe("BatchNorm1d gradients (float64 central differences)", () => {
  it("training mode, random shapes from batch 3 and features 1", () => {
    fc.assert(
      fc.property(
        fc.record({
          batch: fc.integer({ min: 3, max: 6 }),
          features: fc.integer({ min: 1, max: 5 }),
          seed: fc.nat(),
        }),
        ({ batch, features, seed }) => {
          const rng = new Rng(seed);
          const bn = randomLayer(rng, features);
          // dL/dx sums to zero per feature, so some entries are small differences of large terms (large
          // when a feature's batch variance is small), where the elementwise relative error is
          // ill-conditioned; the error relative to the largest entry is the meaningful bound there.
          for (const r of checkModuleGradients(bn, normalTensor(rng, batch, features), {
            seed,
            name: "bn",
          })) {
            const largest = r.analytical.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-3);
            expect(r.maxAbsoluteError / largest, `${r.wrt} ${batch}×${features}`).toBeLessThan(1e-6);
          }
        },
      ),
      PROPERTY,
    );
  });

  it.each([
    [2, 1],
    [2, 3],
    [4, 1],
  ])("training and eval at batch %i, features %i; affine and not", (batch, features) => {
    // At batch 2 the normalised output is ±1 up to eps, so the true input gradient is of order eps and
    // central differences only resolve it when eps is not tiny: these cases use eps = 0.1.
    for (const affine of [true, false]) {
      for (const training of [true, false]) {
        const rng = new Rng(batch * 10 + features);
        const bn = randomLayer(rng, features, { affine, eps: 0.1 });
        bn.train(training);
        const checks = checkModuleGradients(bn, normalTensor(rng, batch, features), { name: "bn" });
        expect(checks.map((c) => c.wrt)).toEqual(affine ? ["input", "weight", "bias"] : ["input"]);
        for (const r of checks) expect(r.maxRelativeError, `${r.wrt} ${training}`).toBeLessThan(1e-6);
      }
    }
  });

  it("a batch of 2 per feature normalises to ±1 (the smallest batch PyTorch trains on)", () => {
    const bn = new BatchNorm1d(1, { dtype: "float64", eps: 1e-12 });
    const y = bn.forward(f64([[3], [7]]));
    expectClose(y.data, [-1, 1], 1e-9);
  });
});

describe("BatchNorm1d agrees with PyTorch (float64)", () => {
  it("three training steps (outputs, gradients, running stats), then eval", () => {
    const b = fixture.batchnorm;
    const bn = new BatchNorm1d(b.features, { dtype: "float64" });
    bn.weight.data.set(b.initial.weight);
    bn.bias.data.set(b.initial.bias);
    for (const step of b.steps) {
      bn.zeroGrad();
      expectClose(toRows(bn.forward(f64(step.x))), step.y);
      expectClose(toRows(bn.backward(f64(step.upstream))), step.dx, 1e-11);
      expectClose(bn.weightGrad.data, step.dweight);
      expectClose(bn.biasGrad.data, step.dbias);
      expectClose(bn.runningMean.data, step.running_mean);
      expectClose(bn.runningVar.data, step.running_var);
      expect(bn.numBatchesTracked.data[0]).toBe(step.num_batches_tracked);
    }
    bn.eval();
    bn.zeroGrad();
    const e = b.eval;
    expectClose(toRows(bn.forward(f64(e.x))), e.y);
    expectClose(toRows(bn.backward(f64(e.upstream))), e.dx);
    expectClose(bn.weightGrad.data, e.dweight);
    expectClose(bn.biasGrad.data, e.dbias);
    expect(bn.numBatchesTracked.data[0]).toBe(b.steps.length); // eval does not count
  });
});

describe("BatchNorm1d structure", () => {
  it("names parameters and buffers as PyTorch does; running stats start at 0 and 1", () => {
    const bn = new BatchNorm1d(4);
    expect(Object.keys(bn.stateDict())).toEqual([
      "weight",
      "bias",
      "running_mean",
      "running_var",
      "num_batches_tracked",
    ]);
    expect(Array.from(bn.weight.data)).toEqual([1, 1, 1, 1]);
    expect(Array.from(bn.runningVar.data)).toEqual([1, 1, 1, 1]);
    expect(bn.numBatchesTracked.shape).toEqual([]);
    expect(bn.buffers().find((x) => x.name === "num_batches_tracked")?.integer).toBe(true);
    expect(Object.keys(new BatchNorm1d(2, { affine: false }).stateDict())).toEqual([
      "running_mean",
      "running_var",
      "num_batches_tracked",
    ]);
  });

  it("float32 runs, is deterministic, and reuses its buffers", () => {
    const rng = new Rng(3);
    const x = normalTensor(rng, 8, 5, "float32");
    const run = () => {
      const bn = new BatchNorm1d(5);
      const y1 = bn.forward(x);
      const dx1 = bn.backward(x);
      const y2 = bn.forward(x);
      expect(y2).toBe(y1);
      expect(bn.backward(x)).toBe(dx1);
      return [Array.from(y1.data), Array.from(bn.runningVar.data)];
    };
    expect(run()).toEqual(run());
  });

  it("rejects bad options and inputs with one-line errors", () => {
    expect(() => new BatchNorm1d(0)).toThrow(/BatchNorm1d: features must be a positive integer, got 0/);
    expect(() => new BatchNorm1d(2, { momentum: 2 })).toThrow(/momentum must be in \[0, 1\], got 2/);
    expect(() => new BatchNorm1d(2, { eps: 0 })).toThrow(/eps must be positive/);
    const bn = new BatchNorm1d(2, { dtype: "float64" });
    expect(() => bn.backward(f64([[1, 2]]))).toThrow(/called before forward/);
    expect(() => bn.forward(f64([[1, 2]]))).toThrow(/training needs more than 1 row per feature/);
    expect(() => bn.forward(f64([[1, 2, 3]]))).toThrow(/expected 2 columns/);
    bn.eval();
    expect(bn.forward(f64([[1, 2]])).shape).toEqual([1, 2]); // eval accepts a single row
  });
});
