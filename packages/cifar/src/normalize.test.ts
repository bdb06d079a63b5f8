import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CIFAR10_MEAN, CIFAR10_STD, IMAGE_BYTES } from "./constants.js";
import { normalizationConstants, normalizationTable, normalizeImages, normalizeValue } from "./normalize.js";

/** The documented formula, naively: y = fround(fround(v * fround(1 / (255 std))) + fround(-mean / std)). */
function reference(v: number, mean: number, std: number): number {
  const product = Math.fround(v * Math.fround(1 / (255 * std)));
  return Math.fround(product + Math.fround(-mean / std));
}

/** |y - exact| within 1e-6 relative to max(1, |exact|) (an absolute 1e-6 for values under 1). */
const tolerance = (exact: number) => 1e-6 * Math.max(1, Math.abs(exact));

describe("normalisation", () => {
  it("the constants: scale = fround(1/(255 std)), bias = fround(-mean/std); bad mean/std are rejected", () => {
    const { scale, bias } = normalizationConstants();
    for (let c = 0; c < 3; c++) {
      expect(scale[c]).toBe(Math.fround(1 / (255 * CIFAR10_STD[c])));
      expect(bias[c]).toBe(Math.fround(-CIFAR10_MEAN[c] / CIFAR10_STD[c]));
    }
    expect(() => normalizationConstants([0.5, 0.5], [1, 1, 1])).toThrow(RangeError);
    expect(() => normalizationConstants([0.5, 0.5, 0.5], [1, 0, 1])).toThrow(RangeError);
    expect(() => normalizationConstants([0.5, Number.NaN, 0.5], [1, 1, 1])).toThrow(RangeError);
    expect(() => normalizationConstants([0.5, 0.5, 0.5], [1, 1, 1e-300])).toThrow(RangeError);
  });

  it("the table is the float32 formula, bit for bit, for all 256 values × 3 channels (default and random mean/std)", () => {
    const check = (mean: readonly number[], std: readonly number[]) => {
      const lut = normalizationTable(mean, std);
      const { scale, bias } = normalizationConstants(mean, std);
      for (let c = 0; c < 3; c++) {
        for (let v = 0; v < 256; v++) {
          expect(lut[c * 256 + v]).toBe(reference(v, mean[c], std[c]));
          expect(normalizeValue(v, scale[c], bias[c])).toBe(reference(v, mean[c], std[c]));
        }
      }
    };
    check(CIFAR10_MEAN, CIFAR10_STD);
    const channel = fc.tuple(
      fc.double({ min: -1, max: 2, noNaN: true }),
      fc.double({ min: 0.01, max: 10, noNaN: true }),
    );
    fc.assert(
      fc.property(fc.tuple(channel, channel, channel), (channels) => {
        check(
          channels.map(([m]) => m),
          channels.map(([, s]) => s),
        );
      }),
      { numRuns: 30 },
    );
  });

  it("the formula is within 1e-6 of the exact (v/255 - mean)/std for all 768 entries (CIFAR-10 and test constants)", () => {
    for (const [mean, std] of [
      [CIFAR10_MEAN, CIFAR10_STD],
      [
        [0.1, 0.7, 0.3],
        [0.9, 0.2, 0.5],
      ],
    ]) {
      const lut = normalizationTable(mean, std);
      let worst = 0;
      for (let c = 0; c < 3; c++) {
        for (let v = 0; v < 256; v++) {
          const exact = (v / 255 - mean[c]) / std[c];
          expect(Math.abs(lut[c * 256 + v] - exact)).toBeLessThanOrEqual(tolerance(exact));
          worst = Math.max(worst, Math.abs(lut[c * 256 + v] - exact));
        }
      }
      expect(worst).toBeLessThan(4e-7); // about 1.5 float32 ulps of values near 2
    }
    expect(normalizationTable()[0]).toBeCloseTo(-0.491 / 0.247, 6);
    expect(normalizationTable()[2 * 256 + 255]).toBeCloseTo((1 - 0.447) / 0.262, 6);
  });

  it("normalizeImages applies the per-channel formula to every pixel, bit for bit", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: IMAGE_BYTES * 2, maxLength: IMAGE_BYTES * 2 }), (images) => {
        const out = normalizeImages(images);
        let mismatches = 0;
        for (let i = 0; i < images.length; i++) {
          const c = Math.floor((i % IMAGE_BYTES) / 1024);
          if (out[i] !== reference(images[i], CIFAR10_MEAN[c], CIFAR10_STD[c])) mismatches++;
        }
        expect(mismatches).toBe(0);
      }),
      { numRuns: 10 },
    );
    expect(() => normalizeImages(new Uint8Array(100))).toThrow(RangeError);
    expect(() => normalizeImages(new Uint8Array(IMAGE_BYTES), new Float32Array(3))).toThrow(RangeError);
  });
});
