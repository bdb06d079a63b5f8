import { describe, expect, it } from "vitest";
import { IMAGE_BYTES } from "./constants.js";
import { syntheticCifar10 } from "./synthetic.js";

describe("syntheticCifar10", () => {
  it("has the real structure, balanced labels, and is deterministic in the seed", () => {
    const data = syntheticCifar10({ trainCount: 200, testCount: 50, seed: 5 });
    expect(data.train.count).toBe(200);
    expect(data.train.images.length).toBe(200 * IMAGE_BYTES);
    expect(data.test.labels.length).toBe(50);
    expect(data.classNames).toHaveLength(10);
    const perClass = new Array(10).fill(0);
    for (const l of data.train.labels) perClass[l]++;
    expect(perClass).toEqual(new Array(10).fill(20));
    const again = syntheticCifar10({ trainCount: 200, testCount: 50, seed: 5 });
    expect(Buffer.compare(again.train.images, data.train.images)).toBe(0);
    expect(Buffer.compare(again.test.images, data.test.images)).toBe(0);
    expect(again.test.labels).toEqual(data.test.labels);
    const other = syntheticCifar10({ trainCount: 200, testCount: 50, seed: 6 });
    expect(Buffer.compare(other.train.images, data.train.images)).not.toBe(0);
    expect(() => syntheticCifar10({ trainCount: -1, testCount: 0, seed: 1 })).toThrow(RangeError);
  });

  it("is learnable: a nearest-class-mean classifier fit on train is far above chance on test", () => {
    const data = syntheticCifar10({ trainCount: 500, testCount: 500, seed: 11 });
    const means = new Float64Array(10 * IMAGE_BYTES);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < data.train.count; i++) {
      const k = data.train.labels[i];
      counts[k]++;
      for (let p = 0; p < IMAGE_BYTES; p++)
        means[k * IMAGE_BYTES + p] += data.train.images[i * IMAGE_BYTES + p];
    }
    for (let k = 0; k < 10; k++)
      for (let p = 0; p < IMAGE_BYTES; p++) means[k * IMAGE_BYTES + p] /= counts[k];
    let correct = 0;
    for (let i = 0; i < data.test.count; i++) {
      let best = -1;
      let bestDistance = Number.POSITIVE_INFINITY;
      for (let k = 0; k < 10; k++) {
        let d = 0;
        for (let p = 0; p < IMAGE_BYTES; p++)
          d += (data.test.images[i * IMAGE_BYTES + p] - means[k * IMAGE_BYTES + p]) ** 2;
        if (d < bestDistance) [best, bestDistance] = [k, d];
      }
      if (best === data.test.labels[i]) correct++;
    }
    expect(correct / data.test.count).toBeGreaterThan(0.9);
    // but individual images are noisy: pixel std around the class mean is well above zero
    let sq = 0;
    for (let p = 0; p < IMAGE_BYTES; p++)
      sq += (data.train.images[p] - means[data.train.labels[0] * IMAGE_BYTES + p]) ** 2;
    expect(Math.sqrt(sq / IMAGE_BYTES)).toBeGreaterThan(15);
  });
});
