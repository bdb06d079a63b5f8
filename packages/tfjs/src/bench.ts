/**
 * `pnpm --filter @nabla/tfjs bench`: samples/s of one default training step (3072-128-10, batch 128,
 * SGD) and of evaluation, on wasm (shimmed and stock matMul) and cpu. Writes bench/out/tfjs.json. The root
 * `pnpm bench` times TF.js beside nabla with bench/tfjs-step.mjs instead.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Rng } from "@nabla/ndarray";
import { MLP } from "@nabla/nn";
import { nablaMlpWeights } from "./crosscheck.js";
import { createTfjsMlp, type TfjsMlpOptions } from "./mlp.js";

const DIMS = [3072, 128, 10];
const BATCH = 128;
const EVAL_BATCH = 1000;
const MIN_SECONDS = 3;

interface BenchRow {
  config: string;
  backend: string;
  simd: boolean;
  wasmMatMul: string;
  trainSamplesPerSecond: number;
  trainStepMs: number;
  evalSamplesPerSecond: number;
  steps: number;
}

/** Runs fn until MIN_SECONDS have passed (after warm-up); returns mean ms per call and the count. */
function timeIt(fn: () => void): { ms: number; calls: number } {
  for (let i = 0; i < 3; i++) fn();
  const start = performance.now();
  let calls = 0;
  while (performance.now() - start < MIN_SECONDS * 1000) {
    fn();
    calls++;
  }
  return { ms: (performance.now() - start) / calls, calls };
}

async function benchOne(config: string, options: Omit<TfjsMlpOptions, "layers">): Promise<BenchRow> {
  const layers = nablaMlpWeights(new MLP(DIMS[0], DIMS.slice(1, -1), DIMS[2], { seed: 0 }));
  const mlp = await createTfjsMlp({ layers, ...options });
  const rng = new Rng(1);
  const x = new Float32Array(EVAL_BATCH * DIMS[0]);
  rng.fillNormal(x);
  const labels = Int32Array.from({ length: EVAL_BATCH }, () => rng.nextUint32() % DIMS[2]);
  const train = timeIt(() => mlp.trainStep(x, labels, BATCH, 0.01));
  const evaluation = timeIt(() => mlp.evaluate(x, labels, EVAL_BATCH));
  const row: BenchRow = {
    config,
    backend: mlp.backendName,
    simd: mlp.simd,
    wasmMatMul: mlp.wasmMatMul,
    trainSamplesPerSecond: Math.round((BATCH * 1000) / train.ms),
    trainStepMs: Number(train.ms.toFixed(2)),
    evalSamplesPerSecond: Math.round((EVAL_BATCH * 1000) / evaluation.ms),
    steps: train.calls,
  };
  mlp.dispose();
  return row;
}

async function main(): Promise<void> {
  const configs: [string, Omit<TfjsMlpOptions, "layers">][] = [
    ["wasm (SIMD, explicit-transpose matMul)", { backend: "wasm", wasmMatMul: "explicit-transpose" }],
    ["wasm (SIMD, stock matMul)", { backend: "wasm", wasmMatMul: "stock" }],
    ["cpu", { backend: "cpu" }],
  ];
  const rows: BenchRow[] = [];
  // Other processes skew the numbers on a 2-core machine: the load average is printed and saved with them.
  const loadBefore = loadavg()[0];
  console.log(`load average ${loadBefore.toFixed(2)}`);
  console.log(
    `TF.js MLP ${DIMS.join("-")}, train batch ${BATCH}, eval batch ${EVAL_BATCH}, >= ${MIN_SECONDS}s each`,
  );
  for (const [name, options] of configs) {
    const row = await benchOne(name, options);
    rows.push(row);
    console.log(
      `  ${name}: train ${row.trainSamplesPerSecond} samples/s (${row.trainStepMs} ms/step), eval ${row.evalSamplesPerSecond} samples/s`,
    );
  }
  const outDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "bench", "out");
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, "tfjs.json");
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    loadAverage: { before: loadBefore, after: loadavg()[0] },
    dims: DIMS,
    batch: BATCH,
    rows,
  };
  writeFileSync(`${file}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  console.log(`wrote ${file}`);
}

await main();
