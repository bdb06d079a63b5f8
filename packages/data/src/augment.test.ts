import { readFileSync } from "node:fs";
import { Rng } from "@nabla/ndarray";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { arrayDataset } from "./array.js";
import { augmentBatches, checkAugment } from "./augment.js";
import { deriveAugmentSeed, deriveEpochSeed } from "./seed.js";
import type { Batch, BatchStream, Dataset } from "./types.js";

/** The naive transforms of the README's definition, drawing in its documented order. */
type RefStep = { kind: "crop"; padding: number } | { kind: "flip"; p: number };

function reference(
  input: Float32Array,
  size: number,
  [c, h, w]: readonly number[],
  steps: readonly RefStep[],
  rng: Rng,
  rawZero: readonly number[],
): Float32Array {
  const f = c * h * w;
  let cur = Float32Array.from(input.subarray(0, size * f));
  for (const step of steps) {
    const next = new Float32Array(cur.length);
    for (let i = 0; i < size; i++) {
      if (step.kind === "crop") {
        // torchvision: pad with the fill, then take the window at (top, left) of the padded image.
        const p = step.padding;
        const top = rng.below(2 * p + 1);
        const left = rng.below(2 * p + 1);
        const ph = h + 2 * p;
        const pw = w + 2 * p;
        for (let ch = 0; ch < c; ch++) {
          const padded = new Float32Array(ph * pw).fill(rawZero[ch]);
          for (let y = 0; y < h; y++) {
            for (let x = 0; x < w; x++) padded[(y + p) * pw + x + p] = cur[i * f + ch * h * w + y * w + x];
          }
          for (let y = 0; y < h; y++) {
            for (let x = 0; x < w; x++)
              next[i * f + ch * h * w + y * w + x] = padded[(top + y) * pw + left + x];
          }
        }
      } else {
        const flip = rng.uniform() < step.p;
        for (let k = 0; k < c * h; k++) {
          for (let x = 0; x < w; x++) next[i * f + k * w + x] = cur[i * f + k * w + (flip ? w - 1 - x : x)];
        }
      }
    }
    cur = next;
  }
  return cur;
}

const json = (s: RefStep) =>
  s.kind === "crop" ? { randomCrop: { padding: s.padding } } : { horizontalFlip: { p: s.p } };

/** The bits of a float array, so -0 and +0 (or two NaNs) are told apart. */
const bits = (x: Float32Array) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));

/** Examples with distinct float values, normalised per channel so rawZero is not 0. */
function imageDataset(
  count: number,
  shape: readonly number[],
  mean: number[] = [],
  std: number[] = [],
): Dataset {
  const f = shape.reduce((n, d) => n * d, 1);
  const x = Float32Array.from({ length: count * f }, (_, i) => ((i * 37) % 101) / 7 - 3);
  const labels = Array.from({ length: count }, (_, i) => i % 2);
  return arrayDataset({
    name: "images",
    featureShape: shape,
    classNames: ["a", "b"],
    train: { x, labels },
    test: { x: x.subarray(0, f), labels: [0] },
    normalize: {
      mean: Array.from({ length: shape[0] }, (_, ch) => mean[ch] ?? 0.25 * (ch + 1)),
      std: Array.from({ length: shape[0] }, (_, ch) => std[ch] ?? 0.5 + ch),
    },
  });
}

/** Every batch of an epoch, copied (x, y, size). */
function collect(stream: BatchStream, epoch: number): { x: number[]; y: number[]; size: number }[] {
  return Array.from(stream.epoch(epoch), (b: Batch) => ({ x: bits(b.x), y: Array.from(b.y), size: b.size }));
}

const CIFAR_LIKE = [{ randomCrop: { padding: 4 } }, "horizontalFlip"];

describe("augmentBatches", () => {
  it("equals the naive pad-crop and flip, in the documented draw order (fast-check over shapes and seeds)", () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant("crop" as const), padding: fc.integer({ min: 0, max: 8 }) }),
      fc.record({ kind: fc.constant("flip" as const), p: fc.constantFrom(0, 0.3, 0.5, 1) }),
    );
    fc.assert(
      fc.property(
        fc.tuple(
          fc.integer({ min: 1, max: 3 }),
          fc.integer({ min: 1, max: 7 }),
          fc.integer({ min: 1, max: 7 }),
        ),
        fc.array(step, { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 5 }),
        fc.boolean(),
        fc.nat({ max: 0xffff_ffff }),
        fc.nat({ max: 4 }),
        (shape, steps, count, batchSize, dropLast, seed, epoch) => {
          const data = imageDataset(count, shape);
          const options = { batchSize, shuffle: true, seed, dropLast };
          const base = data.splits.train.batches(options);
          const augmented = augmentBatches(data.splits.train.batches(options), steps.map(json), {
            featureShape: data.featureShape,
            seed,
            rawZero: data.rawZero,
          });
          const rng = new Rng(deriveAugmentSeed(seed, epoch));
          const expected = Array.from(base.epoch(epoch), (b) => ({
            x: bits(reference(b.x, b.size, shape, steps, rng, data.rawZero ?? [])),
            y: Array.from(b.y),
            size: b.size,
          }));
          expect(collect(augmented, epoch)).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("reruns are bit-identical and epoch 3 alone equals epoch 3 after epochs 0-2", () => {
    const data = imageDataset(40, [3, 8, 8]);
    const make = () =>
      augmentBatches(
        data.splits.train.batches({ batchSize: 16, shuffle: true, seed: 7, dropLast: false }),
        CIFAR_LIKE,
        {
          featureShape: data.featureShape,
          seed: 7,
          rawZero: data.rawZero,
        },
      );
    const run = make();
    const epochs = [0, 1, 2, 3].map((e) => collect(run, e));
    const again = make();
    expect(collect(again, 3)).toEqual(epochs[3]);
    expect([0, 1, 2].map((e) => collect(again, e))).toEqual(epochs.slice(0, 3));
    expect(collect(run, 1)).toEqual(epochs[1]);
    expect(epochs[0][0].x).not.toEqual(epochs[1][0].x);
    // Another seed draws other crops.
    const other = augmentBatches(
      data.splits.train.batches({ batchSize: 16, shuffle: true, seed: 7, dropLast: false }),
      CIFAR_LIKE,
      { featureShape: data.featureShape, seed: 8, rawZero: data.rawZero },
    );
    expect(collect(other, 0)[0].x).not.toEqual(epochs[0][0].x);
  });

  it("keeps the source's order and labels, never writes its arrays, and reuses one buffer", () => {
    const data = imageDataset(10, [2, 4, 4]);
    const options = { batchSize: 4, shuffle: true, seed: 3, dropLast: false };
    const before = collect(data.splits.train.batches(options), 2);
    const augmented = augmentBatches(data.splits.train.batches(options), CIFAR_LIKE, {
      featureShape: data.featureShape,
      seed: 3,
      rawZero: data.rawZero,
    });
    expect([augmented.batchSize, augmented.batchesPerEpoch]).toEqual([4, 3]);
    const seen: Batch[] = [];
    for (const b of augmented.epoch(2)) seen.push(b);
    expect(seen.map((b) => b.size)).toEqual([4, 4, 2]);
    expect(seen[0]).toBe(seen[1]);
    expect(seen[2].x.buffer).toBe(seen[0].x.buffer);
    expect(collect(augmented, 2).map((b) => b.y)).toEqual(before.map((b) => b.y));
    expect(collect(data.splits.train.batches(options), 2)).toEqual(before);
  });

  it("pads with the value a raw 0 takes once normalised, (0 - mean) / std per channel, as PyTorch does", () => {
    const mean = [0.491, 0.482, 0.447];
    const std = [0.247, 0.243, 0.262];
    const count = 64;
    const data = arrayDataset({
      name: "white",
      featureShape: [3, 8, 8],
      classNames: ["a"],
      train: { x: new Uint8Array(count * 192).fill(255), labels: new Array(count).fill(0) },
      test: { x: new Uint8Array(192), labels: [0] },
      normalize: { mean, std },
    });
    const rawZero = data.rawZero ?? [];
    // The value a real black pixel gets in a batch.
    const black = [...data.splits.test.batches({ batchSize: 1, shuffle: false, dropLast: false }).epoch(0)][0]
      .x;
    for (let ch = 0; ch < 3; ch++) {
      expect(rawZero[ch]).toBeCloseTo((0 - mean[ch]) / std[ch], 6);
      expect(Object.is(rawZero[ch], black[ch * 64])).toBe(true);
    }
    const stream = data.splits.train.batches({ batchSize: count, shuffle: false, dropLast: true });
    const [batch] = augmentBatches(stream, [{ randomCrop: { padding: 4 } }], {
      featureShape: data.featureShape,
      seed: 0,
      rawZero,
    }).epoch(0);
    const white = [...stream.epoch(0)][0].x.slice(0, 192);
    const padded = [0, 0, 0];
    for (let i = 0; i < count; i++) {
      for (let k = 0; k < 192; k++) {
        const ch = Math.floor(k / 64);
        const v = batch.x[i * 192 + k];
        if (v === rawZero[ch]) padded[ch]++;
        else expect(v).toBe(white[k]);
      }
    }
    expect(padded.every((n) => n > 0)).toBe(true);
    // Without normalisation a raw 0 stays 0.
    const plain = arrayDataset({
      name: "plain",
      featureShape: [1, 2, 2],
      classNames: ["a"],
      train: { x: new Float32Array(4), labels: [0] },
      test: { x: new Uint8Array(4), labels: [0] },
    });
    expect(plain.rawZero).toEqual([0]);
  });

  it("an empty or missing list is the identity: the same stream, configs parse as before", () => {
    const data = imageDataset(5, [1, 2, 2]);
    const stream = data.splits.train.batches({ batchSize: 2, shuffle: true, seed: 1, dropLast: true });
    const o = { featureShape: data.featureShape, seed: 1 };
    expect(augmentBatches(stream, [], o)).toBe(stream);
    expect(augmentBatches(stream, undefined, o)).toBe(stream);
    expect(() => checkAugment([], [5])).not.toThrow();
    expect(() => checkAugment(undefined, [5])).not.toThrow();
  });
});

describe("augmentBatches errors", () => {
  it("augmentBatches checks the list, the seed and that padding has a value to pad with", () => {
    const data = imageDataset(4, [3, 4, 4]);
    const stream = data.splits.train.batches({ batchSize: 2, shuffle: false, dropLast: true });
    const o = { featureShape: data.featureShape, seed: 0 };
    expect(() => augmentBatches(stream, [{ randomCrop: { padding: 1 } }], o)).toThrow(
      "augmentBatches: data.augment[0]: randomCrop: rawZero: expected the value a raw 0 takes once batched, per channel (the padding; Dataset.rawZero), got none",
    );
    expect(() => augmentBatches(stream, [{ randomCrop: { padding: 1 } }], { ...o, rawZero: [0] })).toThrow(
      "augmentBatches: data.augment[0]: randomCrop: rawZero: expected 3 finite values (one per channel), got [0]",
    );
    // No padding, nothing to pad with: fine without rawZero.
    expect(() => augmentBatches(stream, [{ randomCrop: { padding: 0 } }, "horizontalFlip"], o)).not.toThrow();
    expect(() => augmentBatches(stream, ["horizontalFlip"], { ...o, seed: -1 })).toThrow(
      "augmentBatches: seed: expected an integer in [0, 4294967295], got -1",
    );
    expect(() => augmentBatches(stream, ["no_such_transform"], o)).toThrow(
      /^augmentBatches: data\.augment\[0\]: unknown transform "no_such_transform"; expected one of /,
    );
    expect(() => augmentBatches(stream, ["horizontalFlip"], { ...o, featureShape: [48] })).toThrow(
      "augmentBatches: data.augment[0]: horizontalFlip: expected images of shape [C, H, W], got featureShape [48]",
    );
  });
});

describe("seeding and bundling", () => {
  it("the augmentation stream is pinned and is not the shuffle's", () => {
    // deriveEpochSeed(42 ^ 0x61756731, e), computed from the formula outside this package.
    expect([0, 1, 2].map((e) => deriveAugmentSeed(42, e))).toEqual([1532482673, 960238812, 1112937483]);
    for (let e = 0; e < 100; e++) expect(deriveAugmentSeed(42, e)).not.toBe(deriveEpochSeed(42, e));
  });

  it("the augmentation modules are browser-safe (no node: imports, Buffer or process)", () => {
    for (const file of ["augment.ts", "transforms.ts", "seed.ts"]) {
      const text = readFileSync(new URL(file, import.meta.url), "utf8");
      expect(text).not.toMatch(/from "node:|\bBuffer\b|\bprocess\./);
    }
  });
});
