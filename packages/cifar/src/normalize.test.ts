import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CIFAR10_MEAN, CIFAR10_STD, IMAGE_BYTES } from "./constants.js";
import { normalizationTable, normalizeImages } from "./normalize.js";

describe("normalisation", () => {
  it("the table equals (v/255 - mean)/std per channel (float64 reference, float32 rounding)", () => {
    const lut = normalizationTable();
    for (let c = 0; c < 3; c++) {
      for (let v = 0; v < 256; v++) {
        const reference = (v / 255 - CIFAR10_MEAN[c]) / CIFAR10_STD[c];
        expect(lut[c * 256 + v]).toBe(Math.fround(reference));
      }
    }
    expect(lut[0]).toBeCloseTo(-0.491 / 0.247, 6);
    expect(lut[2 * 256 + 255]).toBeCloseTo((1 - 0.447) / 0.262, 6);
  });

  it("normalizeImages applies the per-channel formula to every pixel", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: IMAGE_BYTES * 2, maxLength: IMAGE_BYTES * 2 }), (images) => {
        const out = normalizeImages(images);
        let worst = 0;
        for (let i = 0; i < images.length; i++) {
          const c = Math.floor((i % IMAGE_BYTES) / 1024);
          const reference = (images[i] / 255 - CIFAR10_MEAN[c]) / CIFAR10_STD[c];
          worst = Math.max(worst, Math.abs(out[i] - reference));
        }
        expect(worst).toBeLessThan(1e-6);
      }),
      { numRuns: 10 },
    );
    expect(() => normalizeImages(new Uint8Array(100))).toThrow(RangeError);
    expect(() => normalizeImages(new Uint8Array(IMAGE_BYTES), new Float32Array(3))).toThrow(RangeError);
  });
});
