// Optimizer step throughput and per-step allocation on a CIFAR-10-MLP-sized parameter set (float32 and float64).
// Run: pnpm --filter @nabla/optim bench   (builds, then `node --expose-gc bench/step-bench.mjs`)
// Writes bench/out/step-bench.json (atomically) and prints a table.
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { fromTypedArray } from "@nabla/ndarray";
import { Adam, AdamW, CosineAnnealingLR, SGD } from "../dist/index.js";

// 3072 -> 512 -> 256 -> 10 MLP: weights and biases
const SHAPES = [
  ["fc1.weight", 512 * 3072],
  ["fc1.bias", 512],
  ["fc2.weight", 256 * 512],
  ["fc2.bias", 256],
  ["fc3.weight", 10 * 256],
  ["fc3.bias", 10],
];
const TOTAL = SHAPES.reduce((s, [, n]) => s + n, 0);

function makeParams(Ctor) {
  return SHAPES.map(([name, n], k) => {
    const value = new Ctor(n);
    const grad = new Ctor(n);
    for (let i = 0; i < n; i++) {
      value[i] = Math.sin(i * 0.37 + k) * 0.05;
      grad[i] = Math.cos(i * 0.11 + k) * 0.01;
    }
    return { name, value: fromTypedArray(value, [n]), grad: fromTypedArray(grad, [n]) };
  });
}

const CONFIGS = [
  ["SGD lr", (ps) => new SGD(ps, { lr: 0.01 })],
  ["SGD momentum 0.9 + wd", (ps) => new SGD(ps, { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 })],
  ["SGD nesterov", (ps) => new SGD(ps, { lr: 0.01, momentum: 0.9, nesterov: true })],
  ["Adam", (ps) => new Adam(ps, { lr: 1e-3 })],
  ["Adam amsgrad", (ps) => new Adam(ps, { lr: 1e-3, amsgrad: true })],
  ["AdamW", (ps) => new AdamW(ps, { lr: 1e-3, weightDecay: 0.01 })],
];

const gc = globalThis.gc;
if (typeof gc !== "function") throw new Error("run with node --expose-gc");

function memory() {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, buffers: m.arrayBuffers };
}

const results = [];
for (const dtype of ["float32", "float64"]) {
  const Ctor = dtype === "float32" ? Float32Array : Float64Array;
  for (const [label, make] of CONFIGS) {
    const params = makeParams(Ctor);
    const opt = make(params);
    const sched = new CosineAnnealingLR(opt, { tMax: 1000 });
    for (let i = 0; i < 5; i++) opt.step(); // warm-up, and the lazy one-time state allocation
    // best of 3 timed rounds (the machine is shared; the minimum is the least disturbed measurement)
    const steps = 30;
    const before = memory();
    let seconds = Number.POSITIVE_INFINITY;
    for (let round = 0; round < 3; round++) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < steps; i++) {
        opt.step();
        sched.step();
      }
      seconds = Math.min(seconds, Number(process.hrtime.bigint() - t0) / 1e9);
    }
    const after = memory();
    const row = {
      optimizer: label,
      dtype,
      parameters: TOTAL,
      msPerStep: (seconds / steps) * 1e3,
      nsPerElement: (seconds / steps / TOTAL) * 1e9,
      heapGrowthBytesPerStep: (after.heap - before.heap) / (3 * steps),
      arrayBufferGrowthBytesPerStep: (after.buffers - before.buffers) / (3 * steps),
    };
    results.push(row);
    console.log(
      `${dtype}  ${label.padEnd(24)} ${row.msPerStep.toFixed(2).padStart(7)} ms/step  ${row.nsPerElement.toFixed(2).padStart(6)} ns/param` +
        `  heap ${row.heapGrowthBytesPerStep.toFixed(0).padStart(6)} B/step  typed-array ${row.arrayBufferGrowthBytesPerStep.toFixed(0)} B/step`,
    );
  }
}

const outDir = new URL("./out/", import.meta.url);
mkdirSync(outDir, { recursive: true });
const payload = { node: process.version, date: new Date().toISOString(), parameters: TOTAL, results };
const tmp = new URL("step-bench.json.tmp", outDir);
writeFileSync(tmp, `${JSON.stringify(payload, null, 2)}\n`);
renameSync(tmp, new URL("step-bench.json", outDir));
