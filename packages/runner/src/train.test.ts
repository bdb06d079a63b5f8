import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { expandSweep } from "./spec.js";
import { downsample } from "./train.js";

describe("downsample", () => {
  test("stride 1 keeps every step; a wider stride averages windows; NaN/Inf windows become null", () => {
    expect(downsample([1, 2, 3], 1)).toEqual([1, 2, 3]);
    expect(downsample([1, 2, 3, 4, 5, 6, 7], 3)).toEqual([2, 5, 7]);
    expect(downsample([1, Number.NaN, 3, 4], 2)).toEqual([null, 3.5]);
    expect(downsample([1, Number.POSITIVE_INFINITY], 1)).toEqual([1, null]);
  });

  test("every step lands in exactly one window (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { maxLength: 200 }),
        fc.integer({ min: 1, max: 20 }),
        (losses, stride) => {
          const out = downsample(losses, stride) as number[];
          expect(out).toHaveLength(Math.ceil(losses.length / stride));
          // Window means weighted by window sizes give back the total.
          const total = out.reduce(
            (acc, mean, i) => acc + mean * Math.min(stride, losses.length - i * stride),
            0,
          );
          const expected = losses.reduce((a, b) => a + b, 0);
          expect(Math.abs(total - expected)).toBeLessThan(
            1e-6 * (1 + Math.abs(expected) + losses.length * 1e3),
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("grid expansion (property)", () => {
  test("the product of the list lengths, with unique names, each value applied", () => {
    const values = fc.uniqueArray(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(values, values, values, (epochs, batchSizes, seeds) => {
        const specs = expandSweep({ name: "g", grid: { epochs, batchSize: batchSizes, seed: seeds } });
        expect(specs).toHaveLength(epochs.length * batchSizes.length * seeds.length);
        expect(new Set(specs.map((s) => s.name)).size).toBe(specs.length);
        const last = specs[specs.length - 1];
        expect([last.epochs, last.batchSize, last.seed]).toEqual([
          epochs.at(-1),
          batchSizes.at(-1),
          seeds.at(-1),
        ]);
        expect(specs[0].name).toBe(`g-epochs=${epochs[0]}-batchSize=${batchSizes[0]}-seed=${seeds[0]}`);
      }),
      { numRuns: 50 },
    );
  });
});
