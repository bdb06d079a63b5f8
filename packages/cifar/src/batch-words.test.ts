// The BatchLoader reads pixels four at a time as 32-bit words when the image bytes are 4-byte aligned, and one
// byte at a time otherwise. Both must give every value of the direct formula fround((v / 255 - mean) / std).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BatchLoader } from "./batch.js";
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

describe("BatchLoader normalisation, word and byte paths", () => {
  it("every value equals the direct formula, aligned or not, default or custom mean/std", () => {
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
      { numRuns: 40 },
    );
  });
});
