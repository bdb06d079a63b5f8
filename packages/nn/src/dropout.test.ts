import { readFileSync } from "node:fs";
import { fromArray, Rng, type Tensor } from "@nabla/ndarray";
import { describe, expect, it } from "vitest";
import { normalTensor, toRows } from "../test/helpers.js";
import { Dropout } from "./dropout.js";
import { ModuleBase } from "./module.js";
import { checkModuleGradients } from "./module-checks.js";

const fixture: {
  dropout: {
    p: number;
    x: number[][];
    mask: number[][];
    upstream: number[][];
    y: number[][];
    dx: number[][];
    evalY: number[][];
  };
} = JSON.parse(readFileSync(new URL("../test/fixtures/torch-layers.json", import.meta.url), "utf8"));

const f64 = (rows: number[][]): Tensor => fromArray(rows, undefined, "float64");

/** Dropout with one fixed mask, so repeated forwards (central differences) see the same function. */
class FixedMask extends ModuleBase {
  constructor(
    private readonly inner: Dropout,
    private readonly mask: Tensor,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return this.inner.forwardWithMask(x, this.mask);
  }
  backward(dY: Tensor): Tensor {
    return this.inner.backward(dY);
  }
}

describe("Dropout", () => {
  it("matches torch's x * mask / (1 - p) and its gradient for a given mask; eval is the identity", () => {
    const d = fixture.dropout;
    const drop = new Dropout(d.p, { rng: new Rng(0) });
    const x = f64(d.x);
    expect(toRows(drop.forwardWithMask(x, f64(d.mask))).flat()).toEqual(
      d.y.flat().map((v) => expect.closeTo(v, 14)),
    );
    const dx = toRows(drop.backward(f64(d.upstream))).flat();
    for (const [i, v] of d.dx.flat().entries()) expect(dx[i]).toBeCloseTo(v, 14);
    drop.eval();
    const y = drop.forward(x);
    expect(toRows(y)).toEqual(d.evalY);
    const g = f64(d.upstream);
    expect(drop.backward(g)).toBe(g);
  });

  it("gradient check (float64) with a fixed mask", () => {
    const rng = new Rng(5);
    const mask = fromArray(
      Array.from({ length: 4 }, () => Array.from({ length: 3 }, () => (rng.uniform() < 0.5 ? 1 : 0))),
      undefined,
      "float64",
    );
    const [r] = checkModuleGradients(new FixedMask(new Dropout(0.4, { rng }), mask), normalTensor(rng, 4, 3));
    expect(r.maxRelativeError).toBeLessThan(1e-8);
  });

  it("keeps about 1 - p of the elements, scaled by 1/(1 - p), and the same seed gives the same bits", () => {
    const p = 0.3;
    const x = fromArray([Array.from({ length: 20_000 }, () => 1)], undefined, "float32");
    const drop = new Dropout(p, { rng: new Rng(11) });
    const y = Array.from(drop.forward(x).data);
    const kept = y.filter((v) => v !== 0);
    expect(new Set(kept)).toEqual(new Set([Math.fround(1 / (1 - p))]));
    // Binomial(20000, 0.7): standard deviation of the rate ≈ 0.0032; 4σ.
    expect(Math.abs(kept.length / y.length - (1 - p))).toBeLessThan(0.013);
    expect(Array.from(new Dropout(p, { rng: new Rng(11) }).forward(x).data)).toEqual(y);
    expect(Array.from(drop.forward(x).data)).not.toEqual(y); // a new mask each step
  });

  it("p = 0 is the identity and draws nothing; p outside [0, 1) is refused", () => {
    const x = normalTensor(new Rng(2), 2, 3);
    const rng = new Rng(1);
    const drop = new Dropout(0, { rng });
    expect(drop.forward(x)).toBe(x);
    expect(rng.nextUint32()).toBe(new Rng(1).nextUint32());
    expect(() => new Dropout(1, { rng })).toThrow(/Dropout: p must be in \[0, 1\), got 1/);
    expect(() => new Dropout(-0.1, { rng })).toThrow(/p must be in \[0, 1\)/);
    expect(() => new Dropout(0.5, { rng }).backward(x)).toThrow(/called before forward/);
    expect(() =>
      new Dropout(0.5, { rng }).forwardWithMask(
        x,
        fromArray(
          [
            [2, 0, 1],
            [0, 1, 1],
          ],
          undefined,
          "float64",
        ),
      ),
    ).toThrow(/mask entries must be 0 or 1, got 2/);
  });
});
