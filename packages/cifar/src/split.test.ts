import { describe, expect, it } from "vitest";
import { IMAGE_BYTES } from "./constants.js";
import type { CifarSplit } from "./parse.js";
import { splitTrainValidation } from "./split.js";

/** Image i holds the bytes of i (little-endian) so membership can be read back. */
function indexedSplit(count: number): CifarSplit {
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    images[i * IMAGE_BYTES] = i & 255;
    images[i * IMAGE_BYTES + 1] = i >>> 8;
    labels[i] = i % 10;
  }
  return { images, labels, count };
}
const same = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);
const ids = (s: CifarSplit) =>
  Array.from({ length: s.count }, (_, i) => s.images[i * IMAGE_BYTES] + 256 * s.images[i * IMAGE_BYTES + 1]);

describe("splitTrainValidation", () => {
  it("45,000 + 5,000, disjoint, covering, sorted, labels kept, deterministic for seed 42", () => {
    const all = indexedSplit(50_000);
    const { train, validation } = splitTrainValidation(all);
    expect([train.count, validation.count]).toEqual([45_000, 5_000]);
    const t = ids(train);
    const v = ids(validation);
    expect(new Set([...t, ...v]).size).toBe(50_000);
    expect(
      same(
        t,
        [...t].sort((a, b) => a - b),
      ),
    ).toBe(true);
    expect(
      same(
        Array.from(train.labels),
        t.map((id) => id % 10),
      ),
    ).toBe(true);
    const again = splitTrainValidation(all, { seed: 42 });
    expect(same(ids(again.validation), v)).toBe(true);
    expect(same(ids(splitTrainValidation(all, { seed: 43 }).validation), v)).toBe(false);
  });

  it("validates the size", () => {
    expect(() => splitTrainValidation(indexedSplit(10), { validationSize: 11 })).toThrow(RangeError);
    expect(splitTrainValidation(indexedSplit(10), { validationSize: 0 }).train.count).toBe(10);
  });
});
