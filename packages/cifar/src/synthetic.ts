import { Rng } from "@nabla/ndarray";
import {
  CIFAR10_CLASS_NAMES,
  CLASS_COUNT,
  IMAGE_BYTES,
  IMAGE_SIDE,
  PIXELS_PER_CHANNEL,
} from "./constants.js";
import type { Cifar10Data, CifarSplit } from "./parse.js";

export interface SyntheticOptions {
  trainCount: number;
  testCount: number;
  seed: number;
}

/**
 * Learnable fake CIFAR-10 in the real structure (uint8 [N, 3072] channel-major, labels 0-9, class names),
 * for tests and smoke runs without the data set. Each class k has a mean image drawn from Rng(seed):
 * a base colour per channel (uniform in [60, 196)) plus a class-specific plane wave (random orientation and
 * frequency, amplitude 40). An image is its class mean plus triangular noise in [-64, 64] (std ≈ 26),
 * clipped to [0, 255]. Labels are balanced (i mod 10) then shuffled. Train and test share the class means
 * and differ in noise, so a classifier that learns from train generalises to test. Same seed => same bytes.
 */
export function syntheticCifar10(options: SyntheticOptions): Cifar10Data {
  const { trainCount, testCount, seed } = options;
  for (const [name, n] of [
    ["trainCount", trainCount],
    ["testCount", testCount],
  ] as const) {
    if (!(Number.isInteger(n) && n >= 0))
      throw new RangeError(`syntheticCifar10: ${name} must be an integer >= 0, got ${n}`);
  }
  const rng = new Rng(seed);
  const means = classMeans(rng);
  return {
    train: syntheticSplit(trainCount, means, rng),
    test: syntheticSplit(testCount, means, rng),
    classNames: [...CIFAR10_CLASS_NAMES],
  };
}

function classMeans(rng: Rng): Float64Array {
  const means = new Float64Array(CLASS_COUNT * IMAGE_BYTES);
  for (let k = 0; k < CLASS_COUNT; k++) {
    const angle = rng.uniform() * Math.PI;
    const frequency = (1 + rng.uniform() * 3) * ((2 * Math.PI) / IMAGE_SIDE);
    const fx = Math.cos(angle) * frequency;
    const fy = Math.sin(angle) * frequency;
    for (let c = 0; c < 3; c++) {
      const base = 60 + rng.uniform() * 136;
      const phase = rng.uniform() * 2 * Math.PI;
      for (let row = 0; row < IMAGE_SIDE; row++) {
        for (let col = 0; col < IMAGE_SIDE; col++) {
          const at = k * IMAGE_BYTES + c * PIXELS_PER_CHANNEL + row * IMAGE_SIDE + col;
          means[at] = base + 40 * Math.sin(fx * col + fy * row + phase);
        }
      }
    }
  }
  return means;
}

function syntheticSplit(count: number, means: Float64Array, rng: Rng): CifarSplit {
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) labels[i] = i % CLASS_COUNT;
  rng.shuffle(labels);
  const images = new Uint8Array(count * IMAGE_BYTES);
  for (let i = 0; i < count; i++) {
    const mean = labels[i] * IMAGE_BYTES;
    const out = i * IMAGE_BYTES;
    for (let p = 0; p < IMAGE_BYTES; p += 2) {
      // Two pixels per 32-bit draw; each noise value is (byte + byte - 255) / 4: triangular on [-64, 64].
      const r = rng.nextUint32();
      const n0 = ((r & 255) + ((r >>> 8) & 255) - 255) / 4;
      const n1 = (((r >>> 16) & 255) + (r >>> 24) - 255) / 4;
      images[out + p] = clampByte(means[mean + p] + n0);
      images[out + p + 1] = clampByte(means[mean + p + 1] + n1);
    }
  }
  return { images, labels, count };
}

function clampByte(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}
