import { Rng } from "@nabla/ndarray";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { arrayDataset } from "./array.js";
import { deriveEpochSeed } from "./seed.js";
import type { ArrayBatchStream } from "./stream.js";
import type { Batch, DatasetSplit } from "./types.js";

/** Example i has features [i, -i] and label i mod 3, so visits can be traced from the batches. */
function traced(count: number) {
  const x = new Float32Array(count * 2);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    x[2 * i] = i;
    x[2 * i + 1] = -i;
    labels[i] = i % 3;
  }
  return { x, labels };
}

function tracedDataset(trainCount: number, testCount = 4) {
  return arrayDataset({
    name: "traced",
    featureShape: [2],
    classNames: ["a", "b", "c"],
    train: traced(trainCount),
    test: traced(testCount),
  });
}

/** The example ids an epoch visits, checking x and y agree with each id. */
function visits(batches: Iterable<Batch>): number[][] {
  const out: number[][] = [];
  for (const { x, y, size } of batches) {
    expect(x.length).toBe(size * 2);
    expect(y.length).toBe(size);
    const ids: number[] = [];
    for (let i = 0; i < size; i++) {
      const id = x[2 * i];
      if (x[2 * i + 1] !== -id || y[i] !== id % 3)
        throw new Error(`row ${i} of a batch is not example ${id}`);
      ids.push(id);
    }
    out.push(ids);
  }
  return out;
}

const stream = (split: DatasetSplit, o: Parameters<DatasetSplit["batches"]>[0]) =>
  split.batches(o) as ArrayBatchStream;

describe("arrayDataset", () => {
  it("has train and test (and validation when given), sizes from the labels, frozen metadata", () => {
    const data = tracedDataset(10, 4);
    expect(Object.keys(data.splits)).toEqual(["train", "test"]);
    expect([data.splits.train.size, data.splits.test.size]).toEqual([10, 4]);
    expect(Object.isFrozen(data.featureShape) && Object.isFrozen(data.classNames)).toBe(true);
    const withValidation = arrayDataset({
      name: "v",
      featureShape: [2],
      classNames: ["a", "b", "c"],
      train: traced(10),
      validation: traced(3),
      test: traced(4),
    });
    expect(Object.keys(withValidation.splits)).toEqual(["train", "validation", "test"]);
    expect(withValidation.splits.validation.size).toBe(3);
  });

  it("every epoch visits each example once (dropLast: all but the last partial batch), any sizes", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 1, max: 17 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 0, max: 5 }),
        (count, batchSize, shuffle, dropLast, epoch) => {
          const split = tracedDataset(count).splits.train;
          const s = stream(split, { batchSize, shuffle, dropLast, seed: 7 });
          const batches = visits(s.epoch(epoch));
          const whole = Math.floor(count / batchSize);
          const expected = dropLast || count % batchSize === 0 ? whole : whole + 1;
          expect(batches.length).toBe(expected);
          expect(s.batchesPerEpoch).toBe(expected);
          expect(batches.slice(0, whole).every((b) => b.length === batchSize)).toBe(true);
          const seen = batches.flat();
          expect(seen).toEqual(Array.from(s.epochOrder(epoch)).slice(0, seen.length));
          if (!dropLast)
            expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, i) => i));
          expect(new Set(seen).size).toBe(seen.length);
        },
      ),
    );
  });

  it("shuffles as Rng(deriveEpochSeed(seed, e)), so any epoch replays alone; no shuffle keeps the order", () => {
    const split = tracedDataset(50).splits.train;
    const options = { batchSize: 8, shuffle: true, dropLast: false, seed: 42 };
    const expected = (e: number) => {
      const order = Uint32Array.from({ length: 50 }, (_, i) => i);
      new Rng(deriveEpochSeed(42, e)).shuffle(order);
      return Array.from(order);
    };
    const a = split.batches(options);
    const run = [0, 1, 2, 3].map((e) => visits(a.epoch(e)).flat());
    expect(run).toEqual([0, 1, 2, 3].map(expected));
    expect(visits(split.batches(options).epoch(3)).flat()).toEqual(run[3]);
    expect(run[0]).not.toEqual(run[1]);
    const other = visits(split.batches({ ...options, seed: 43 }).epoch(0)).flat();
    expect(other).not.toEqual(run[0]);
    const plain = visits(split.batches({ ...options, shuffle: false }).epoch(5)).flat();
    expect(plain).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it("reuses one buffer: the partial batch is a view of the full one", () => {
    const s = tracedDataset(10).splits.train.batches({ batchSize: 4, shuffle: false, dropLast: false });
    const [first, , last] = [...s.epoch(0)];
    expect(last.size).toBe(2);
    expect(last.x.buffer).toBe(first.x.buffer);
    expect(Array.from(last.x)).toEqual([8, -8, 9, -9]);
  });

  it("holds out validation like splitTrainValidation: Rng(seed).permutation, both sides in order", () => {
    const data = arrayDataset({
      name: "h",
      featureShape: [2],
      classNames: ["a", "b", "c"],
      train: traced(100),
      test: traced(4),
      holdout: { seed: 42, validationSize: 30 },
    });
    const ids = (name: string) =>
      visits(data.splits[name].batches({ batchSize: 7, shuffle: false, dropLast: false }).epoch(0)).flat();
    const p = new Rng(42).permutation(100);
    expect(ids("validation")).toEqual(Array.from(p.slice(0, 30).sort()));
    expect(ids("train")).toEqual(Array.from(p.slice(30).sort()));
    expect([data.splits.train.size, data.splits.validation.size, data.splits.test.size]).toEqual([70, 30, 4]);
  });

  it("normalises per channel with cifar's float32 arithmetic: bytes over 255, floats as they are", () => {
    const bytes = Uint8Array.from([0, 128, 255, 7, 9, 200, 1, 2]);
    const mean = [0.491, 0.482];
    const std = [0.247, 0.243];
    const make = (x: Float32Array | Uint8Array, normalize?: { mean: number[]; std: number[] }) =>
      arrayDataset({
        name: "n",
        featureShape: [2, 2],
        classNames: ["a"],
        train: { x, labels: [0, 0] },
        test: { x, labels: [0, 0] },
        normalize,
      });
    const first = (d: ReturnType<typeof make>) =>
      Array.from(
        [...d.splits.train.batches({ batchSize: 2, shuffle: false, dropLast: false }).epoch(0)][0].x,
      );
    const f32 = Math.fround;
    const expected = Array.from(bytes, (v, i) => {
      const c = Math.floor(i / 2) % 2;
      return f32(f32(v * f32(1 / (255 * std[c]))) + f32(-mean[c] / std[c]));
    });
    expect(first(make(bytes, { mean, std }))).toEqual(expected);
    expect(first(make(bytes))).toEqual(Array.from(bytes, (v) => f32(v * f32(1 / 255))));
    const floats = Float32Array.from([0.5, -1.25, 3, 1e-3, 2, 4, 8, 16]);
    expect(first(make(floats))).toEqual(Array.from(floats));
    expect(first(make(floats, { mean: [1, 0], std: [2, 1] }))).toEqual(
      Array.from(floats, (v, i) => (Math.floor(i / 2) % 2 === 0 ? f32(f32(v * 0.5) - 0.5) : v)),
    );
  });

  it("rejects bad arguments with one-line errors naming the field", () => {
    const base = {
      name: "e",
      featureShape: [2],
      classNames: ["a", "b", "c"],
      train: traced(5),
      test: traced(2),
    };
    expect(() =>
      arrayDataset({ ...base, train: { x: new Float32Array(9), labels: [0, 1, 2, 0, 1] } }),
    ).toThrow("arrayDataset: train.x: expected 5 × 2 = 10 values (labels × featureSize), got 9");
    expect(() => arrayDataset({ ...base, test: { x: new Float32Array(4), labels: [0, 3] } })).toThrow(
      "arrayDataset: test.labels[1]: expected a class index in [0, 2], got 3",
    );
    expect(() => arrayDataset({ ...base, featureShape: [2, 0] })).toThrow(
      "featureSize: featureShape: expected a non-empty list of positive integers, got [2, 0]",
    );
    expect(() =>
      arrayDataset({ ...base, validation: traced(1), holdout: { seed: 1, validationSize: 1 } }),
    ).toThrow("arrayDataset: holdout: expected either validation or holdout, got both");
    expect(() => arrayDataset({ ...base, holdout: { seed: 1, validationSize: 6 } })).toThrow(
      "arrayDataset: holdout.validationSize: expected an integer in [0, 5] (the training examples), got 6",
    );
    expect(() => arrayDataset({ ...base, normalize: { mean: [0, 0, 0], std: [1, 1] } })).toThrow(
      "arrayDataset: normalize.mean: expected 2 values (one per channel, featureShape[0]), got 3",
    );
    expect(() => arrayDataset({ ...base, normalize: { mean: [0, 0], std: [1, 0] } })).toThrow("std > 0");
    const split = arrayDataset(base).splits.train;
    expect(() => split.batches({ batchSize: 0, shuffle: false, dropLast: false })).toThrow(
      "DatasetSplit.batches: batchSize: expected a positive integer, got 0",
    );
    expect(() => split.batches({ batchSize: 2, shuffle: true, dropLast: false, seed: -1 })).toThrow(
      "DatasetSplit.batches: seed: expected an integer in [0, 4294967295], got -1",
    );
    const s = split.batches({ batchSize: 2, shuffle: false, dropLast: false });
    expect(() => [...s.epoch(1.5)]).toThrow(
      "BatchStream.epoch: index: expected a non-negative integer, got 1.5",
    );
  });
});
