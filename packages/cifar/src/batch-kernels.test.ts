// The BatchLoader normalises with WASM SIMD (on a resident copy of the split or on rows staged per batch), the
// scalar WASM table kernel (resident or staged), or JavaScript tables read as 32-bit words or bytes. Every path
// must give, bit for bit, the documented float32 formula fround(fround(v * scale) + bias) with
// scale = fround(1 / (255 * std)), bias = fround(-mean / std), computed here by a naive loop of its own.
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { type BatchKernel, BatchLoader, setBatchKernel } from "./batch.js";
import { CIFAR10_MEAN, CIFAR10_STD, IMAGE_BYTES } from "./constants.js";
import { normalizationConstants, normalizationTable } from "./normalize.js";
import type { CifarSplit } from "./parse.js";
import { kernelModuleBytes } from "./wasm-kernels.js";
import { WasmNormalizer, wasmKernelAvailable } from "./wasm-normalize.js";

const KERNELS: BatchKernel[] = ["auto", "simd", "simd-staged", "wasm", "wasm-staged", "words", "bytes"];
const CUSTOM: { mean: readonly number[]; std: readonly number[] } = {
  mean: [0.1, 0.7, 0.3],
  std: [0.9, 0.2, 0.5],
};

/** The reference: the documented formula, written out naively in float32 steps. */
function reference(v: number, c: number, mean: readonly number[], std: readonly number[]): number {
  const scale = Math.fround(1 / (255 * std[c]));
  const bias = Math.fround(-mean[c] / std[c]);
  const product = Math.fround(v * scale);
  return Math.fround(product + bias);
}

/** A split of `count` images starting `shift` bytes into its buffer (shift 0: aligned, 1-3: not). */
function splitOf(count: number, shift: number, byte: (i: number) => number): CifarSplit {
  const storage = new Uint8Array(count * IMAGE_BYTES + shift);
  for (let i = 0; i < count * IMAGE_BYTES; i++) storage[shift + i] = byte(i);
  const labels = Uint8Array.from({ length: count }, (_, i) => (i * 7) % 10);
  return { images: storage.subarray(shift), labels, count };
}

function randomSplit(count: number, seed: number, shift: number): CifarSplit {
  let s = seed >>> 0 || 1;
  return splitOf(count, shift, () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s & 255;
  });
}

/** Runs epoch `epoch` of a loader and counts values differing (in bits) from the reference; checks labels. */
function mismatches(
  loader: BatchLoader,
  split: CifarSplit,
  epoch: number,
  mean: readonly number[] = CIFAR10_MEAN,
  std: readonly number[] = CIFAR10_STD,
) {
  const order = loader.epochOrder(epoch);
  let at = 0;
  let bad = 0;
  for (const batch of loader.epoch(epoch)) {
    for (let i = 0; i < batch.size; i++, at++) {
      const src = order[at] * IMAGE_BYTES;
      if (batch.y[i] !== split.labels[order[at]]) bad++;
      for (let p = 0; p < IMAGE_BYTES; p++) {
        const want = reference(split.images[src + p], p >> 10, mean, std);
        if (!Object.is(batch.x[i * IMAGE_BYTES + p], want)) bad++;
      }
    }
  }
  return { bad, visited: at };
}

describe.each<BatchKernel>(KERNELS)("BatchLoader normalisation, kernel %s", (kernel) => {
  afterAll(() => setBatchKernel("auto"));

  it("all 256 byte values in all 3 channels, bit for bit, default and custom mean/std", () => {
    setBatchKernel(kernel);
    // image k holds byte (k + p) mod 256 at pixel p: every value in every plane, in varying lanes
    const split = splitOf(6, 0, (i) => (Math.floor(i / IMAGE_BYTES) + i) % 256);
    for (const { mean, std } of [{ mean: CIFAR10_MEAN, std: CIFAR10_STD }, CUSTOM]) {
      const loader = new BatchLoader(split, { batchSize: 5, shuffle: false, dropLast: false, mean, std });
      expect(mismatches(loader, split, 0, mean, std)).toEqual({ bad: 0, visited: 6 });
    }
  });

  it("random images, any batch size and count (groups of four and the rest), aligned or not, shuffled", () => {
    setBatchKernel(kernel);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 13 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 1, max: 2 ** 30 }),
        fc.boolean(),
        fc.boolean(),
        (count, batchSize, shift, seed, custom, dropLast) => {
          const split = randomSplit(count, seed, shift);
          const { mean, std } = custom ? CUSTOM : { mean: CIFAR10_MEAN, std: CIFAR10_STD };
          const options = { batchSize, shuffle: true, seed, dropLast, mean, std };
          const loader = new BatchLoader(split, options);
          const visited = dropLast ? count - (count % batchSize) : count;
          expect(mismatches(loader, split, 1, mean, std)).toEqual({ bad: 0, visited });
          expect(mismatches(loader, split, 2, mean, std)).toEqual({ bad: 0, visited });
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
});

describe("the WASM kernels", () => {
  it("both modules validate and run here (otherwise the suites above would test the JS fallbacks twice)", () => {
    const wasm = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly;
    expect(wasm.validate(kernelModuleBytes("simd"))).toBe(true);
    expect(wasm.validate(kernelModuleBytes("scalar"))).toBe(true);
    expect([wasmKernelAvailable("simd"), wasmKernelAvailable("scalar")]).toEqual([true, true]);
  });

  it("each kernel, resident and staged, writes exactly the reference for 2 images given in any order", () => {
    const split = splitOf(3, 0, (i) => (i * 31 + (i >> 10)) % 256);
    const constants = normalizationConstants();
    const table = normalizationTable();
    for (const kernel of ["simd", "scalar"] as const) {
      for (const resident of [true, false]) {
        const wasm = WasmNormalizer.create(split.images, 3, {
          kernel,
          resident,
          constants,
          table,
          capacity: 2,
        });
        expect(wasm?.kernel).toBe(kernel);
        expect(wasm?.epochOrder === null).toBe(!resident);
        const order = wasm?.epochOrder ?? new Uint32Array(3);
        order.set([2, 0, 1]);
        wasm?.fill(order, 0, 2);
        const out = wasm?.output ?? new Float32Array(0);
        expect(out.length).toBe(2 * IMAGE_BYTES);
        for (let p = 0; p < 2 * IMAGE_BYTES; p++) {
          const image = order[Math.floor(p / IMAGE_BYTES)];
          const v = split.images[image * IMAGE_BYTES + (p % IMAGE_BYTES)];
          expect(out[p]).toBe(reference(v, (p % IMAGE_BYTES) >> 10, CIFAR10_MEAN, CIFAR10_STD));
        }
      }
    }
  });
});
