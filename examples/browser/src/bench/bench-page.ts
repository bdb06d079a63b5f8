/**
 * bench.html: samples/s of the default training step (3072-128-10, batch 128, SGD lr 0.01) in this page: nabla's
 * WebAssembly GEMM (the runner's nablaModel step, as bench/nabla-step.mjs does in Node; 2 threads and 1) and
 * TF.js's wasm backend (@nabla/tfjs's explicit-transpose matMul and the stock one, as packages/tfjs's bench).
 * Repetitions are interleaved, so a busy machine slows every implementation alike. ?reps=N (default 7).
 * The outcome goes to window.nablaBench for src/node/bench.ts.
 */

import { type GemmKernelInfo, gemmReady, Rng, setGemmThreads } from "@nabla/ndarray";
import { buildSequential, MLP, mlpLayers } from "@nabla/nn";
import { createOptimizer } from "@nabla/optim";
import { nablaModel } from "@nabla/runner/training";
import { createTfjsMlp, nablaMlpWeights, setWasmBinaryDir, setWasmMatMulMode } from "@nabla/tfjs";
import { getThreadsCount, setThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import * as tf from "@tensorflow/tfjs-core";
import { setNablaEnv } from "../training/nabla-env.js";

const BATCH = 128;
const DIMS = [3072, 128, 10];
const TFJS_THREADS = 2;

interface Contender {
  name: string;
  /** Steps per repetition: each repetition near a second on an idle machine. */
  steps: number;
  step(): void;
  before?(): void;
  samplesPerSecond: number[];
}

function batchOf(seed: number): { x: Float32Array; labels: Int32Array } {
  const rng = new Rng(seed);
  const x = new Float32Array(BATCH * DIMS[0]);
  rng.fillNormal(x, 0, 1);
  const labels = Int32Array.from({ length: BATCH }, () => rng.nextUint32() % DIMS[2]);
  return { x, labels };
}

/** bench/nabla-step.mjs's model: the default spec's MLP, SGD from @nabla/optim, one fixed batch. */
function nablaContender(name: string, threads: 1 | 2): Contender {
  const { x, labels } = batchOf(7);
  const model = buildSequential(mlpLayers(DIMS.slice(1, -1), DIMS[2]), { inputDim: DIMS[0], seed: 42 });
  const optimizer = createOptimizer({ kind: "sgd", lr: 0.01 }, model.parameters());
  const trainer = nablaModel(model, optimizer, DIMS[0]);
  return {
    name,
    steps: threads === 2 ? 40 : 20,
    step: () => trainer.trainStep(x, labels, BATCH),
    before: () => setGemmThreads(threads),
    samplesPerSecond: [],
  };
}

async function tfjsContender(name: string, wasmMatMul: "explicit-transpose" | "stock"): Promise<Contender> {
  const layers = nablaMlpWeights(new MLP(DIMS[0], DIMS.slice(1, -1), DIMS[2], { seed: 0 }));
  const mlp = await createTfjsMlp({ layers, backend: "wasm", wasmMatMul });
  if (mlp.backendName !== "wasm")
    throw new Error(`TF.js fell back to ${mlp.backendName}: ${mlp.backendFallbackReason}`);
  const { x, labels } = batchOf(1);
  return {
    name,
    // The stock kernel is ~10x slower: fewer steps keep its repetitions near a second.
    steps: wasmMatMul === "stock" ? 4 : 20,
    step: () => mlp.trainStep(x, labels, BATCH, 0.01),
    // The matMul mode is process-wide (TF.js kernels are global): each repetition sets its own.
    before: () => setWasmMatMulMode(wasmMatMul),
    samplesPerSecond: [],
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * With `relaxed`, only nabla on the relaxed-SIMD build (Chromium's default; a build is chosen once per page,
 * hence a page of its own); otherwise the plain SIMD build Node 20 runs, beside TF.js.
 */
async function runBench(reps: number, relaxed: boolean): Promise<unknown> {
  setNablaEnv({ NABLA_WASM_RELAXED: relaxed ? "1" : "0", NABLA_KERNEL_NOTICE: "0" });
  const kernel = await gemmReady();
  const nabla2 = nablaContender("nabla", 2);
  const nabla1 = nablaContender("nablaOneThread", 1);
  if (relaxed) return measure(reps, [nabla2, nabla1], kernel, {});
  setWasmBinaryDir(new URL("./tfjs/", location.href).href);
  // Asks TF.js's threaded build for the two threads nabla uses. Measured in Chromium 156 on 2 cores, XNNPACK
  // still reports 1 (getThreadsCount) with or without this; the JSON says what it got.
  setThreadsCount(TFJS_THREADS);
  const contenders = [
    nabla2,
    nabla1,
    await tfjsContender("tfjsExplicitTranspose", "explicit-transpose"),
    await tfjsContender("tfjsStock", "stock"),
  ];
  return measure(reps, contenders, kernel, {
    tfjsThreads: getThreadsCount(),
    tfjsMultithreadSupport: await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT"),
    // Which of its three builds TF.js fetched (threaded-simd only where it can use threads).
    tfjsWasmFiles: performance
      .getEntriesByType("resource")
      .map((entry) => entry.name)
      .filter((name) => name.endsWith(".wasm"))
      .map((name) => name.slice(name.lastIndexOf("/") + 1)),
  });
}

/** Warm-up, then `reps` interleaved repetitions of every contender. */
async function measure(
  reps: number,
  contenders: Contender[],
  kernel: GemmKernelInfo,
  extra: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  for (const c of contenders) {
    c.before?.();
    for (let i = 0; i < 3; i++) c.step(); // warm-up: JIT, memory growth, TF.js kernels
  }
  for (let r = 0; r < reps; r++) {
    for (const c of contenders) {
      c.before?.();
      const t0 = performance.now();
      for (let i = 0; i < c.steps; i++) c.step();
      c.samplesPerSecond.push((c.steps * BATCH * 1000) / (performance.now() - t0));
      await new Promise((resolve) => setTimeout(resolve, 0)); // lets the page breathe between repetitions
    }
  }
  const result: Record<string, unknown> = {
    batch: BATCH,
    dims: DIMS,
    reps,
    userAgent: navigator.userAgent,
    hardwareConcurrency: navigator.hardwareConcurrency,
    crossOriginIsolated,
    gemm: { kernel: kernel.kernel, isa: kernel.isa, threads: kernel.threads, notes: kernel.notes },
    ...extra,
  };
  for (const c of contenders) {
    result[c.name] = {
      steps: c.steps,
      median: median(c.samplesPerSecond),
      samplesPerSecond: c.samplesPerSecond,
    };
  }
  return result;
}

type Outcome = { state: "running" } | { state: "done"; result: unknown } | { state: "failed"; error: string };
const page = globalThis as unknown as { nablaBench: Outcome };
page.nablaBench = { state: "running" };
const params = new URLSearchParams(location.search);
runBench(Number(params.get("reps") ?? 7), params.get("relaxed") === "1").then(
  (result) => {
    page.nablaBench = { state: "done", result };
  },
  (error: unknown) => {
    page.nablaBench = {
      state: "failed",
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    };
  },
);
