import { deriveEpochSeed } from "@nabla/data";
import { Rng } from "@nabla/ndarray";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BatchLoader } from "./batch.js";
import { IMAGE_BYTES } from "./constants.js";
import { normalizeImages } from "./normalize.js";
import type { CifarSplit } from "./parse.js";

/** Image i has every byte = i mod 256 and label i mod 10, so visits can be traced. */
function tracedSplit(count: number): CifarSplit {
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    images.fill(i % 251, i * IMAGE_BYTES, (i + 1) * IMAGE_BYTES);
    labels[i] = i % 10;
  }
  return { images, labels, count };
}

describe("BatchLoader", () => {
  it("the homework sizes: 45,000 / 128 train -> 351 batches dropping the rest; 5,000 / 128 -> 40 keeping 8", () => {
    const train = new BatchLoader(
      { images: new Uint8Array(45_000 * IMAGE_BYTES), labels: new Uint8Array(45_000), count: 45_000 },
      { batchSize: 128, shuffle: true, seed: 42, dropLast: true },
    );
    expect(train.batchesPerEpoch).toBe(351);
    let trainBatches = 0;
    for (const batch of train.epoch(0)) {
      if (batch.size !== 128) throw new Error(`partial train batch of ${batch.size}`);
      trainBatches++;
    }
    expect(trainBatches).toBe(351);
    const val = new BatchLoader(
      { images: new Uint8Array(5_000 * IMAGE_BYTES), labels: new Uint8Array(5_000), count: 5_000 },
      { batchSize: 128, shuffle: false, dropLast: false },
    );
    expect(val.batchesPerEpoch).toBe(40);
    const sizes = Array.from(val.epoch(0), (b) => b.size);
    expect(sizes.length).toBe(40);
    expect(sizes[39]).toBe(5000 - 39 * 128);
  });

  it("every epoch visits each image at most once (exactly once without dropLast), x = normalised image, y = label", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 17 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 0, max: 5 }),
        (count, batchSize, shuffle, dropLast, epoch) => {
          const split = tracedSplit(count);
          const expected = normalizeImages(split.images);
          const loader = new BatchLoader(split, { batchSize, shuffle, dropLast, seed: 9 });
          const order = loader.epochOrder(epoch);
          const seen: number[] = [];
          let mismatches = 0;
          for (const batch of loader.epoch(epoch)) {
            expect(batch.x.length).toBe(batch.size * IMAGE_BYTES);
            expect(batch.y.length).toBe(batch.size);
            for (let i = 0; i < batch.size; i++) {
              const src = order[seen.length];
              seen.push(src);
              if (batch.y[i] !== split.labels[src]) mismatches++;
              for (const p of [0, 1500, 3071]) {
                if (batch.x[i * IMAGE_BYTES + p] !== expected[src * IMAGE_BYTES + p]) mismatches++;
              }
            }
          }
          expect(mismatches).toBe(0);
          const visited = dropLast ? count - (count % batchSize) : count;
          expect(seen.length).toBe(visited);
          expect(new Set(seen).size).toBe(visited);
          expect(loader.batchesPerEpoch).toBe(
            dropLast ? Math.floor(count / batchSize) : Math.ceil(count / batchSize),
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it("shuffle order = Fisher–Yates with the derived epoch seed; same seed+epoch => same order; epochs differ", () => {
    const split = tracedSplit(1000);
    const a = new BatchLoader(split, { batchSize: 64, shuffle: true, seed: 42, dropLast: true });
    const b = new BatchLoader(split, { batchSize: 64, shuffle: true, seed: 42, dropLast: true });
    const reference = new Uint32Array(1000).map((_, i) => i);
    new Rng(deriveEpochSeed(42, 3)).shuffle(reference);
    expect(a.epochOrder(3)).toEqual(reference);
    expect(b.epochOrder(3)).toEqual(a.epochOrder(3));
    expect(a.epochOrder(4)).not.toEqual(a.epochOrder(3));
    expect(
      new BatchLoader(split, { batchSize: 64, shuffle: true, seed: 43, dropLast: true }).epochOrder(3),
    ).not.toEqual(reference);
    expect(
      Array.from(new BatchLoader(split, { batchSize: 64, shuffle: false, dropLast: false }).epochOrder(7)),
    ).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it("reuses the same buffers for every batch (no allocation per batch)", () => {
    const loader = new BatchLoader(tracedSplit(50), {
      batchSize: 16,
      shuffle: true,
      seed: 1,
      dropLast: false,
    });
    const batches = [...loader.epoch(0)].map((b) => ({ x: b.x, y: b.y, size: b.size }));
    expect(batches.map((b) => b.size)).toEqual([16, 16, 16, 2]);
    expect(batches[1].x).toBe(batches[0].x);
    expect(batches[2].y).toBe(batches[0].y);
    expect(batches[3].x.buffer).toBe(batches[0].x.buffer);
    const again = [...loader.epoch(1)];
    expect(again[0].x).toBe(batches[0].x);
  });

  it("rejects bad arguments", () => {
    const split = tracedSplit(4);
    expect(() => new BatchLoader(split, { batchSize: 0, shuffle: false, dropLast: false })).toThrow(
      RangeError,
    );
    const loader = new BatchLoader(split, { batchSize: 2, shuffle: false, dropLast: false });
    expect(() => loader.epoch(-1).next()).toThrow(RangeError);
  });
});
