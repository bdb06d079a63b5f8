/**
 * Checks on the real CIFAR-10, run only when the verified files are present (the cache or
 * $NABLA_DATA_DIR; `fetchCifar10()` puts them there). In CI there is no data: the suite skips and says why.
 */
import { describe, expect, it } from "vitest";
import { resolveCacheDir, verifyCifar10 } from "./acquire.js";
import { IMAGE_BYTES, OFFICIAL_MANIFEST } from "./constants.js";
import { loadCifar10 } from "./load.js";
import { silentProgress } from "./progress.js";
import { splitTrainValidation } from "./split.js";

const dir = resolveCacheDir();
const report = await verifyCifar10({ onProgress: silentProgress });
const reason = report.ok
  ? ""
  : `real CIFAR-10 not verified in ${dir} (${report.problem ?? report.files.find((f) => !f.ok)?.problem}); run fetchCifar10() / \`nabla data fetch\` to enable`;
if (reason) console.warn(`skipping real-data tests: ${reason}`);

describe.skipIf(!report.ok)(`real CIFAR-10 in ${dir}`, () => {
  it("every file has the official SHA-1", () => {
    expect(report.files.map((f) => [f.name, f.sha1])).toEqual(
      OFFICIAL_MANIFEST.files.map((f) => [f.name, f.sha1]),
    );
  });

  it("counts, first labels, per-class balance, per-channel mean, and the seeded split", async () => {
    const data = await loadCifar10({ onProgress: silentProgress });
    expect([data.train.count, data.test.count]).toEqual([50_000, 10_000]);
    expect([data.train.labels[0], data.train.labels[1], data.test.labels[0]]).toEqual([6, 9, 3]);
    expect(data.classNames[6]).toBe("frog");
    const perClass = (labels: Uint8Array) =>
      labels.reduce((c, l) => {
        c[l]++;
        return c;
      }, new Array(10).fill(0));
    expect(perClass(data.train.labels)).toEqual(new Array(10).fill(5000));
    expect(perClass(data.test.labels)).toEqual(new Array(10).fill(1000));

    const sums = [0, 0, 0];
    const { images } = data.train;
    for (let i = 0; i < data.train.count; i++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        const at = i * IMAGE_BYTES + c * 1024;
        for (let p = 0; p < 1024; p++) s += images[at + p];
        sums[c] += s;
      }
    }
    const means = sums.map((s) => s / (255 * 1024 * data.train.count));
    const expected = [0.4914, 0.4822, 0.4465];
    for (let c = 0; c < 3; c++) expect(Math.abs(means[c] - expected[c])).toBeLessThan(1e-3);

    const { train, validation } = splitTrainValidation(data.train);
    expect([train.count, validation.count]).toEqual([45_000, 5_000]);
  });
});
