import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Layout, layouts, randomMatrix, toRows } from "../test/helpers.js";
import {
  add,
  addRowVector,
  axpy,
  clamp,
  exp,
  greater,
  log,
  mul,
  relu,
  reluBackward,
  scale,
  sub,
} from "./elementwise.js";
import { Rng } from "./rng.js";
import { zeros } from "./tensor.js";

const f = Math.fround;
type Case = {
  name: string;
  arity: 1 | 2;
  run: (o: never, a: never, b: never) => unknown;
  ref: (a: number, b: number) => number;
};

// Each op against a naive per-element formula evaluated with float32 rounding (inputs are float32 views).
const cases: Case[] = [
  { name: "add", arity: 2, run: (o, a, b) => add(o, a, b), ref: (a, b) => f(a + b) },
  { name: "sub", arity: 2, run: (o, a, b) => sub(o, a, b), ref: (a, b) => f(a - b) },
  { name: "mul", arity: 2, run: (o, a, b) => mul(o, a, b), ref: (a, b) => f(a * b) },
  { name: "greater", arity: 2, run: (o, a, b) => greater(o, a, b), ref: (a, b) => (a > b ? 1 : 0) },
  { name: "reluBackward", arity: 2, run: (o, a, b) => reluBackward(o, a, b), ref: (g, x) => (x > 0 ? g : 0) },
  { name: "scale", arity: 1, run: (o, a) => scale(o, a, -1.5), ref: (a) => f(a * -1.5) },
  { name: "relu", arity: 1, run: (o, a) => relu(o, a), ref: (a) => (a > 0 ? a : 0) },
  { name: "exp", arity: 1, run: (o, a) => exp(o, a), ref: (a) => f(Math.exp(a)) },
  { name: "log", arity: 1, run: (o, a) => log(o, a), ref: (a) => f(Math.log(a)) },
  {
    name: "clamp",
    arity: 1,
    run: (o, a) => clamp(o, a, -0.25, 0.5),
    ref: (a) => Math.min(Math.max(a, -0.25), 0.5),
  },
  { name: "greater scalar", arity: 1, run: (o, a) => greater(o, a, 0.1), ref: (a) => (a > 0.1 ? 1 : 0) },
];

const layoutArb = fc.constantFrom<Layout>(...layouts);

describe("element-wise ops match a naive loop on every layout", () => {
  for (const c of cases) {
    it(c.name, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 9 }),
          fc.integer({ min: 1, max: 9 }),
          layoutArb,
          layoutArb,
          layoutArb,
          fc.boolean(),
          fc.integer(),
          (rows, cols, lo, la, lb, alias, seed) => {
            const rng = new Rng(seed);
            const a = randomMatrix(rng, rows, cols, la);
            if (c.name === "log")
              for (let i = 0; i < rows; i++)
                for (let j = 0; j < cols; j++) a.set(i, j, Math.abs(a.get(i, j)) + 0.01);
            const b = randomMatrix(rng, rows, cols, lb);
            const expected = toRows(a).map((r, i) => r.map((v, j) => c.ref(v, b.get(i, j))));
            const out = alias ? a : randomMatrix(rng, rows, cols, lo);
            c.run(out as never, a as never, b as never);
            expect(toRows(out)).toEqual(expected);
          },
        ),
        { numRuns: 60 },
      );
    });
  }

  it("axpy: y += alpha x", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 9 }),
        layoutArb,
        layoutArb,
        fc.integer(),
        (rows, cols, ly, lx, seed) => {
          const rng = new Rng(seed);
          const y = randomMatrix(rng, rows, cols, ly);
          const x = randomMatrix(rng, rows, cols, lx);
          const expected = toRows(y).map((r, i) => r.map((v, j) => f(v + 0.75 * x.get(i, j))));
          axpy(y, 0.75, x);
          expect(toRows(y)).toEqual(expected);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("addRowVector broadcasts a row over every row", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 9 }),
        layoutArb,
        layoutArb,
        fc.integer(),
        (rows, cols, lo, la, seed) => {
          const rng = new Rng(seed);
          const a = randomMatrix(rng, rows, cols, la);
          const row = new Float32Array(cols);
          rng.fillUniform(row, -1, 1);
          const out = randomMatrix(rng, rows, cols, lo);
          addRowVector(out, a, row);
          expect(toRows(out)).toEqual(toRows(a).map((r) => r.map((v, j) => f(v + row[j]))));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("accepts typed arrays as 1-D tensors and rejects shape mismatches with a named error", () => {
    const out = new Float32Array(3);
    add(out, new Float32Array([1, 2, 3]), new Float32Array([10, 20, 30]));
    expect(Array.from(out)).toEqual([11, 22, 33]);
    expect(() => add(zeros([2, 3]), zeros([2, 3]), zeros([3, 2]))).toThrow(
      /add: b has shape \[3, 2\] but out has \[2, 3\]/,
    );
    expect(() => addRowVector(zeros([2, 3]), zeros([2, 3]), new Float32Array(2))).toThrow(/length 3/);
    expect(() => clamp(zeros([1]), zeros([1]), 1, 0)).toThrow(/lo <= hi/);
  });

  it("float64 inputs keep float64 precision", () => {
    const a = new Float64Array([0.1, 1e-20]);
    const out = new Float64Array(2);
    add(out, a, new Float64Array([0.2, 1]));
    expect(Array.from(out)).toEqual([0.1 + 0.2, 1 + 1e-20]);
  });
});
