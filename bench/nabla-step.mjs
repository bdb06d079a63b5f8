// nabla's default training step for `pnpm bench`: samples/s per repetition and the step's time split.
// Run as a script it is a contender of run.mjs's interleaved rounds (contenders.mjs), so the WebAssembly kernels
// are measured in a child process started with NABLA_GEMM_NATIVE=0 (the addon cannot be unloaded).
import { fileURLToPath } from "node:url";
import {
  fromTypedArray,
  gemm,
  gemmKernelInfo,
  gemmProfile,
  Rng,
  residentZeros,
  setGemmProfiling,
  zeros,
} from "@nabla/ndarray";
import { buildSequential, mlpLayers, SoftmaxCrossEntropy } from "@nabla/nn";
import { createOptimizer } from "@nabla/optim";
import { nablaModel } from "@nabla/runner";
import { REPETITION_SECONDS, repetitions, serve } from "./contenders.mjs";

export const batch = 128;
export const dims = [3072, 128, 10];
/** Steps before timing, the same in the numpy and torch scripts: V8 optimises the step only after a few dozen. */
const warmupSteps = 100;

/** Floating-point operations of one step: forward and weight gradient of every layer, dX of all but the first. */
export function stepFlop() {
  let flop = 0;
  for (let l = 0; l + 1 < dims.length; l++) flop += 2 * batch * dims[l] * dims[l + 1] * (l === 0 ? 2 : 3);
  return flop;
}

/** The step's GEMM shapes whose rates the bench tables (the two of layer 1 do 98 % of its FLOP). */
export const gemmShapes = [
  { name: "layer 1 forward X·W1ᵀ", m: 128, n: 128, k: 3072, transA: false, transB: true },
  { name: "layer 1 weight grad dYᵀ·X", m: 128, n: 3072, k: 128, transA: true, transB: false },
  { name: "layer 2 input grad dY·W2", m: 128, n: 128, k: 10, transA: false, transB: false },
];

/** A copy of `t` where the kernel now set reads it in place (inside WebAssembly memory for wasm and parallel). */
function inPlace(t) {
  const r = residentZeros(t.shape);
  r.data.set(t.data);
  return r;
}

/** Random operands of `shape` (C = op(A) op(B), beta 0) for the kernel now set, and the product as a call. */
export function gemmCall(shape, rng) {
  const s = shape;
  const a = s.transA ? zeros([s.k, s.m]) : zeros([s.m, s.k]);
  const b = s.transB ? zeros([s.n, s.k]) : zeros([s.k, s.n]);
  rng.fillNormal(a.data);
  rng.fillNormal(b.data);
  const [ai, bi, ci] = [a, b, zeros([s.m, s.n])].map(inPlace);
  return { flop: 2 * s.m * s.n * s.k, run: () => gemm(s.transA, s.transB, 1, ai, bi, 0, ci) };
}

/**
 * The limit's GEMM rate as a contender of the interleaved rounds: each repetition times the two layer-1
 * shapes for half a repetition each on the kernel now set and returns the faster GFLOP/s. The step and the
 * rate it is held to are then measured under the same load, round by round, on a machine whose speed drifts.
 */
export function limitGemmContender() {
  const rng = new Rng(3);
  const calls = gemmShapes.slice(0, 2).map((s) => gemmCall(s, rng));
  const timers = calls.map(({ flop, run }) => {
    for (let i = 0; i < 20; i++) run();
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) run();
    const each = (performance.now() - t0) / 10 / 1000;
    const iterations = Math.max(5, Math.round(REPETITION_SECONDS / 2 / each));
    return () => {
      for (let i = 0; i < Math.ceil(iterations / 5); i++) run();
      const t = performance.now();
      for (let i = 0; i < iterations; i++) run();
      return (flop * iterations) / ((performance.now() - t) / 1000) / 1e9;
    };
  });
  return { rep: () => Math.max(...timers.map((time) => time())), finish: () => ({}) };
}

/** The runner's model of the default spec, its SGD from @nabla/optim's registry, and one fixed batch. */
function makeModel() {
  const rng = new Rng(7);
  const data = new Float32Array(batch * dims[0]);
  rng.fillNormal(data, 0, 1);
  const labels = Int32Array.from({ length: batch }, () => rng.nextUint32() % dims.at(-1));
  const model = buildSequential(mlpLayers(dims.slice(1, -1), dims.at(-1)), { inputDim: dims[0], seed: 42 });
  const optimizer = createOptimizer({ kind: "sgd", lr: 0.01 }, model.parameters());
  const trainer = nablaModel(model, optimizer, dims[0]);
  return { data, x: fromTypedArray(data, [batch, dims[0]]), labels, model, optimizer, trainer };
}

/** The runner's training step (what every training run executes), warmed up: one repetition per rep(). */
export function nablaStepContender() {
  const { data, x, labels, model, optimizer, trainer } = makeModel();
  const step = () => trainer.trainStep(data, labels, batch);
  for (let i = 0; i < warmupSteps; i++) step();
  return {
    rep: repetitions(step, batch),
    /** The step's time split (after the timed repetitions, so they are not slowed by the profiler). */
    finish: () => ({ split: splitStep(step, model, optimizer, x, labels), gemm: gemmKernelInfo() }),
  };
}

/**
 * Where a step's time goes, ms per step over `steps` steps: each GEMM (by shape, from the gemm profile),
 * element-wise (forward, loss and backward minus their GEMMs: bias, ReLU, softmax), the optimizer, and
 * other (zeroGrad and the rest of the wall time). Timers around each phase add ~1 µs of the total.
 */
function splitStep(step, model, optimizer, x, labels, steps = 200) {
  // The same pieces the runner's step calls, timed one by one (the step itself cannot be timed inside).
  const loss = new SoftmaxCrossEntropy();
  for (let i = 0; i < 10; i++) step();
  const phase = { zeroGrad: 0, passes: 0, optimizer: 0 };
  setGemmProfiling(true);
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    const a = performance.now();
    model.zeroGrad();
    const b = performance.now();
    loss.forward(model.forward(x), labels);
    model.backward(loss.backward());
    const c = performance.now();
    optimizer.step();
    const d = performance.now();
    phase.zeroGrad += b - a;
    phase.passes += c - b;
    phase.optimizer += d - c;
  }
  const wall = performance.now() - t0;
  const gemms = gemmProfile().map((g) => ({
    shape: `${g.transA ? "Aᵀ" : "A"}·${g.transB ? "Bᵀ" : "B"} ${g.m}×${g.n}×${g.k}`,
    kernel: g.kernel,
    ms: g.ms / steps,
    gflops: (2 * g.m * g.n * g.k * g.calls) / (g.ms / 1000) / 1e9,
  }));
  setGemmProfiling(false);
  const gemmMs = gemms.reduce((s, g) => s + g.ms, 0);
  return {
    stepMs: wall / steps,
    gemms,
    elementwiseMs: phase.passes / steps - gemmMs,
    optimizerMs: phase.optimizer / steps,
    otherMs: (wall - phase.passes - phase.optimizer) / steps,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await serve(nablaStepContender());
