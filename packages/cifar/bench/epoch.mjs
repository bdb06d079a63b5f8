// Benchmark of the input pipeline: a full normalised training epoch of BatchLoader over 45,000 images
// (batch 128, shuffled, drop last -> 351 batches), validation/test passes, whole-split normalisation, and
// loading/verifying the real files. Uses the real data when it is verified in the cache, else synthetic data
// of the same size. Run: pnpm --filter @nabla/cifar bench   (node --expose-gc, so allocation can be measured)
import { performance } from "node:perf_hooks";
import {
  BatchLoader,
  loadCifar10,
  normalizeImages,
  silentProgress,
  splitTrainValidation,
  syntheticCifar10,
  verifyCifar10,
} from "../dist/index.js";

const gc = globalThis.gc ?? (() => {});
const ms = (t0) => performance.now() - t0;
const fmt = (x, d = 1) => x.toFixed(d);

async function data() {
  const verify = await verifyCifar10({ onProgress: silentProgress });
  if (verify.ok) {
    console.log(`verify: 6 files SHA-1 checked in ${fmt(verify.seconds * 1000, 0)} ms`);
    const t0 = performance.now();
    const loaded = await loadCifar10({ onProgress: silentProgress });
    console.log(
      `loadCifar10 (cache hit: verify + read + SHA-1 again + parse 60,000 images): ${fmt(ms(t0), 0)} ms`,
    );
    return { ...loaded, kind: "real CIFAR-10" };
  }
  console.log("real data not in the cache: using syntheticCifar10 of the same size");
  const t0 = performance.now();
  const synthetic = syntheticCifar10({ trainCount: 50_000, testCount: 10_000, seed: 1 });
  console.log(`syntheticCifar10 60,000 images: ${fmt(ms(t0), 0)} ms`);
  return { ...synthetic, kind: "synthetic" };
}

function timeEpochs(name, loader, epochs) {
  let checksum = 0;
  for (const batch of loader.epoch(0)) checksum += batch.x[0]; // warm-up (JIT)
  gc();
  const before = process.memoryUsage();
  const times = [];
  for (let e = 1; e <= epochs; e++) {
    const t0 = performance.now();
    for (const batch of loader.epoch(e)) checksum += batch.x[batch.x.length - 1] + batch.y[0];
    times.push(ms(t0));
  }
  const after = process.memoryUsage();
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  const images = loader.batchesPerEpoch * loader.batchSize;
  console.log(
    `${name}: ${loader.batchesPerEpoch} batches, median ${fmt(median)} ms/epoch (min ${fmt(times[0])}, max ${fmt(times.at(-1))}) = ` +
      `${fmt(images / (median / 1000) / 1e3, 0)}k images/s, ${fmt((median * 1e6) / (images * 3072), 2)} ns/value; ` +
      `heap ${fmt((after.heapUsed - before.heapUsed) / 1024, 0)} KiB, array buffers ${fmt((after.arrayBuffers - before.arrayBuffers) / 1024, 0)} KiB over ${epochs} epochs` +
      ` (checksum ${fmt(checksum, 2)})`,
  );
  return median;
}

const all = await data();
let t0 = performance.now();
const { train, validation } = splitTrainValidation(all.train);
console.log(`splitTrainValidation 50,000 -> 45,000 + 5,000: ${fmt(ms(t0), 0)} ms   [${all.kind}]`);

const trainLoader = new BatchLoader(train, { batchSize: 128, shuffle: true, seed: 42, dropLast: true });
const median = timeEpochs("train epoch (45,000, shuffled, drop last)", trainLoader, 7);
timeEpochs(
  "validation pass (5,000, in order, keep last)",
  new BatchLoader(validation, { batchSize: 128, shuffle: false, dropLast: false }),
  7,
);
timeEpochs(
  "test pass (10,000, in order, keep last)",
  new BatchLoader(all.test, { batchSize: 128, shuffle: false, dropLast: false }),
  7,
);

const out = new Float32Array(train.images.length);
normalizeImages(train.images, out);
t0 = performance.now();
normalizeImages(train.images, out);
console.log(
  `normalizeImages whole train split into a preallocated ${fmt(out.byteLength / 1e6, 0)} MB Float32Array: ${fmt(ms(t0), 0)} ms`,
);
console.log(`=> the input pipeline costs ${fmt(median / 351, 2)} ms per 128-image batch`);
