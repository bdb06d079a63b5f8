// The BatchLoader normalises with a WASM kernel, or reads pixels four at a time as 32-bit words when the image
// bytes are 4-byte aligned, or one byte at a time. Each must give every value of the direct formula
// fround((v / 255 - mean) / std).
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { type BatchKernel, BatchLoader, setBatchKernel } from "./batch.js";
import { CIFAR10_MEAN, CIFAR10_STD, IMAGE_BYTES } from "./constants.js";
import type { CifarSplit } from "./parse.js";

/** A split of random bytes starting `shift` bytes into its buffer (shift 0: aligned, 1-3: not). */
function randomSplit(count: number, seed: number, shift: number): CifarSplit {
  const storage = new Uint8Array(count * IMAGE_BYTES + shift);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < storage.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    storage[i] = s & 255;
  }
  const labels = Uint8Array.from({ length: count }, (_, i) => (i * 7) % 10);
  return { images: storage.subarray(shift), labels, count };
}

describe.each<BatchKernel>(["auto", "wasm", "words", "bytes"])(
  "BatchLoader normalisation, kernel %s",
  (kernel) => {
    afterAll(() => setBatchKernel("auto"));
    it("every value equals the direct formula, aligned or not, default or custom mean/std", () => {
      setBatchKernel(kernel);
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 9 }),
          fc.integer({ min: 1, max: 4 }),
          fc.integer({ min: 0, max: 3 }),
          fc.integer({ min: 1, max: 2 ** 30 }),
          fc.boolean(),
          (count, batchSize, shift, seed, custom) => {
            const split = randomSplit(count, seed, shift);
            const mean = custom ? [0.1, 0.7, 0.3] : CIFAR10_MEAN;
            const std = custom ? [0.9, 0.2, 0.5] : CIFAR10_STD;
            const loader = new BatchLoader(split, {
              batchSize,
              shuffle: true,
              seed,
              dropLast: false,
              mean,
              std,
            });
            const order = loader.epochOrder(1);
            let at = 0;
            let mismatches = 0;
            for (const batch of loader.epoch(1)) {
              for (let i = 0; i < batch.size; i++, at++) {
                const src = order[at] * IMAGE_BYTES;
                for (let p = 0; p < IMAGE_BYTES; p++) {
                  const c = Math.floor(p / 1024);
                  const want = Math.fround((split.images[src + p] / 255 - mean[c]) / std[c]);
                  if (batch.x[i * IMAGE_BYTES + p] !== want) mismatches++;
                }
              }
            }
            expect(at).toBe(count);
            expect(mismatches).toBe(0);
          },
        ),
        { numRuns: 25 },
      );
    });

    it("a loader's batches are views of one buffer, and shuffled epochs replay identically", () => {
      setBatchKernel(kernel);
      const split = randomSplit(300, 77, 0);
      const loader = new BatchLoader(split, { batchSize: 128, shuffle: true, seed: 3, dropLast: false });
      const first = Array.from(loader.epoch(2), (b) => ({ x: b.x.slice(), y: b.y.slice(), view: b.x }));
      expect(first.map((b) => b.x.length)).toEqual([128 * IMAGE_BYTES, 128 * IMAGE_BYTES, 44 * IMAGE_BYTES]);
      expect(first[0].view.buffer).toBe(first[2].view.buffer);
      const again = Array.from(loader.epoch(2), (b) => ({ x: b.x.slice(), y: b.y.slice() }));
      again.forEach((b, k) => {
        expect(Buffer.from(b.x.buffer).equals(Buffer.from(first[k].x.buffer))).toBe(true);
        expect(b.y).toEqual(first[k].y);
      });
    });
  },
);

it("the WASM kernel really is available here (otherwise the suite above tests the fallbacks twice)", async () => {
  const { WasmNormalizer } = await import("./wasm-normalize.js");
  const table = new Float32Array(768).map((_, i) => i);
  const normalizer = WasmNormalizer.create(table, 2);
  expect(normalizer).not.toBeNull();
  const image = Uint8Array.from({ length: 2 * IMAGE_BYTES }, (_, i) => (i * 31) % 256);
  normalizer?.stage(image, 1, 0);
  normalizer?.normalize(1);
  const out = normalizer?.output ?? new Float32Array(0);
  for (const p of [0, 1, 2, 3, 1023, 1024, 2047, 2048, 3071]) {
    expect(out[p]).toBe(Math.floor(p / 1024) * 256 + image[IMAGE_BYTES + p]);
  }
});
