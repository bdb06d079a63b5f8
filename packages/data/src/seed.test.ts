import { Rng } from "@nabla/ndarray";
import { describe, expect, it } from "vitest";
import { deriveEpochSeed, mix32 } from "./seed.js";

// The generator is @nabla/ndarray's Rng (tested there); these pin what the split and the shuffles rely on.
describe("seeding", () => {
  it("the split's permutation and the epoch seeds match the reference values", () => {
    // From an independent Python implementation of SplitMix32 seeding + xoshiro128** + Fisher–Yates.
    expect(Array.from(new Rng(42).permutation(10))).toEqual([3, 6, 8, 7, 5, 0, 9, 2, 1, 4]);
    expect([0, 1, 2].map((e) => deriveEpochSeed(42, e))).toEqual([310834301, 4213354605, 2761216331]);
  });

  it("mix32 is a bijection on a sample (no collisions) and epoch seeds differ across epochs", () => {
    const seen = new Set<number>();
    for (let i = 0; i < 50_000; i++) seen.add(mix32(i));
    expect(seen.size).toBe(50_000);
    const epochs = new Set(Array.from({ length: 1000 }, (_, e) => deriveEpochSeed(42, e)));
    expect(epochs.size).toBe(1000);
  });
});
