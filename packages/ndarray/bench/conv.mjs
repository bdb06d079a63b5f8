// Convolution benchmark (not a test): GFLOP/s of the reference CIFAR-10 CNN's five convolutions (batch 128,
// 3×3, padding 1: 3→32 and 32→32 at 32×32, 32→64 and 64→64 at 16×16, 64→128 at 8×8), forward, input gradient
// and weight + bias gradient, next to PyTorch (/usr/bin/python3, oneDNN through aten's convolution and
// convolution_backward) in the same run. Rounds alternate nabla and PyTorch, so both see the same load on this
// shared machine; the table gives the median and the best round. Run `node bench/conv.mjs` after
// `pnpm build`; `--kernels=auto,parallel` (default auto) picks the GEMM kernels, `--rounds=N` (default 5),
// `--torch-threads=N` (default 2). Writes bench/out/conv.json.
import { execFileSync } from "node:child_process";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  conv2dBackwardInput,
  conv2dBackwardWeight,
  conv2dForward,
  conv2dPlan,
  gemmKernelInfo,
  Rng,
  setGemmKernel,
  setGemmThreads,
  zeros,
} from "../dist/index.js";

const arg = (name, fallback) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback;
const kernels = arg("kernels", "auto").split(",");
const rounds = Number(arg("rounds", 5));
const torchThreads = Number(arg("torch-threads", 2));
const BATCH_MS = 40;
const N = 128;
// [in, out, side]
const layers = [
  [3, 32, 32],
  [32, 32, 32],
  [32, 64, 16],
  [64, 64, 16],
  [64, 128, 8],
];
const passes = ["forward", "input grad", "weight grad"];
const flops = ([c, o, s]) => 2 * N * o * s * s * c * 9;

function setup([c, o, s]) {
  const rng = new Rng(1);
  const t = (shape) => {
    const x = zeros(shape);
    rng.fillUniform(x, -1, 1);
    return x;
  };
  const plan = conv2dPlan({ inShape: [c, s, s], outChannels: o, kernel: 3, padding: 1 });
  const x = t([N, c, s, s]);
  const w = t([o, c, 3, 3]);
  const b = t([o]);
  const dy = t([N, o, s, s]);
  const y = zeros([N, o, s, s]);
  const dx = zeros([N, c, s, s]);
  const dw = zeros([o, c, 3, 3]);
  const db = zeros([o]);
  return [
    () => conv2dForward(plan, x, w, b, y),
    () => conv2dBackwardInput(plan, dy, w, dx),
    () => conv2dBackwardWeight(plan, x, dy, dw, db, 0),
  ];
}

/** Milliseconds per call: a batch of calls lasting at least BATCH_MS. */
function time(run) {
  run();
  let iters = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) run();
    const ms = performance.now() - t0;
    if (ms >= BATCH_MS) return ms / iters;
    iters *= 2;
  }
}

const torchScript = `
import json, sys, time, torch
torch.set_num_threads(${torchThreads})
N = ${N}
out = []
for c, o, s in json.loads(sys.argv[1]):
    g = torch.Generator().manual_seed(1)
    x = torch.rand(N, c, s, s, generator=g) * 2 - 1
    w = torch.rand(o, c, 3, 3, generator=g) * 2 - 1
    b = torch.rand(o, generator=g) * 2 - 1
    dy = torch.rand(N, o, s, s, generator=g) * 2 - 1
    conv = lambda: torch.ops.aten.convolution(x, w, b, [1, 1], [1, 1], [1, 1], False, [0, 0], 1)
    back = lambda mask: torch.ops.aten.convolution_backward(dy, x, w, [o], [1, 1], [1, 1], [1, 1], False, [0, 0], 1, mask)
    row = []
    for f in (conv, lambda: back([True, False, False]), lambda: back([False, True, True])):
        f()
        iters = 1
        while True:
            t0 = time.perf_counter()
            for _ in range(iters): f()
            ms = (time.perf_counter() - t0) * 1e3
            if ms >= ${BATCH_MS}: break
            iters *= 2
        row.append(ms / iters)
    out.append(row)
print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "ms": out}))
`;

function timeTorch() {
  try {
    return JSON.parse(
      execFileSync("/usr/bin/python3", ["-c", torchScript, JSON.stringify(layers)], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      }),
    );
  } catch (e) {
    const why = String(e.stderr || e.message)
      .trim()
      .split("\n")
      .pop();
    return { skipped: `PyTorch not measured: ${why}` };
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const variants = kernels.map((k) => ({ label: k, kernel: k, threads: 2 }));
if (kernels.includes("auto") && gemmKernelInfo().available.includes("native")) {
  variants.push({ label: "auto-1T", kernel: "auto", threads: 1 });
}
// ms[variant][layer][pass] = one entry per round
const ms = Object.fromEntries(
  [...variants.map((v) => v.label), "torch"].map((l) => [l, layers.map(() => passes.map(() => []))]),
);
let torchInfo = null;
for (let r = 0; r < rounds; r++) {
  for (const v of variants) {
    setGemmKernel(v.kernel);
    setGemmThreads(v.threads);
    layers.forEach((layer, i) => {
      setup(layer).forEach((run, p) => {
        ms[v.label][i][p].push(time(run));
      });
    });
  }
  setGemmKernel("auto");
  setGemmThreads(2);
  const t = timeTorch();
  if (t.skipped) {
    torchInfo = t;
  } else {
    torchInfo = { torch: t.torch, threads: t.threads };
    t.ms.forEach((row, i) => {
      row.forEach((m, p) => {
        ms.torch[i][p].push(m);
      });
    });
  }
  console.error(`round ${r + 1}/${rounds} done (1-min load average ${loadavg()[0].toFixed(2)})`);
}

const info = gemmKernelInfo();
const labels = Object.keys(ms).filter((l) => ms[l][0][0].length > 0);
const results = [];
const rate = (layer, m) => flops(layer) / (m / 1000) / 1e9;
console.log(
  `\nGFLOP/s, median (best) of ${rounds} rounds; GEMM ${info.kernel} (${info.isa}); torch ${torchInfo?.torch ?? "-"} on ` +
    `${torchInfo?.threads ?? "-"} threads; 1-min load average ${loadavg()[0].toFixed(2)}`,
);
console.log(`${"layer".padEnd(22)}${"pass".padEnd(13)}${labels.map((l) => l.padStart(15)).join("")}`);
layers.forEach((layer, i) => {
  passes.forEach((pass, p) => {
    const row = { layer: `${layer[0]}→${layer[1]} ${layer[2]}×${layer[2]}`, pass, gflop: flops(layer) / 1e9 };
    const cells = labels.map((l) => {
      const med = rate(layer, median(ms[l][i][p]));
      const best = rate(layer, Math.min(...ms[l][i][p]));
      row[l] = { median: med, best, ms: median(ms[l][i][p]) };
      return `${med.toFixed(1)} (${best.toFixed(1)})`.padStart(15);
    });
    results.push(row);
    console.log(`${row.layer.padEnd(22)}${pass.padEnd(13)}${cells.join("")}`);
  });
});
// The convolutions' part of a training step: every forward, every weight gradient, the input gradient of all
// but the first layer (its input is the data).
const step = Object.fromEntries(
  labels.map((l) => {
    const total = (pick) =>
      layers.reduce(
        (s, _, i) => s + passes.reduce((t, _p, p) => t + (i === 0 && p === 1 ? 0 : pick(ms[l][i][p])), 0),
        0,
      );
    return [l, { medianMs: total(median), bestMs: total((xs) => Math.min(...xs)) }];
  }),
);
console.log(
  `\nconvolutions of one training step (batch ${N}, no first-layer input gradient), ms median (best):`,
);
for (const l of labels) {
  const s = step[l];
  console.log(
    `  ${l.padEnd(10)} ${s.medianMs.toFixed(1)} (${s.bestMs.toFixed(1)})  = ${((N * 1000) / s.medianMs).toFixed(0)} samples/s`,
  );
}
if (torchInfo?.skipped) console.log(torchInfo.skipped);
const outDir = join(dirname(fileURLToPath(import.meta.url)), "out");
mkdirSync(outDir, { recursive: true });
const file = join(outDir, "conv.json");
const record = {
  date: new Date().toISOString(),
  loadAverage: loadavg()[0],
  info,
  torch: torchInfo,
  rounds,
  results,
  step,
};
writeFileSync(`${file}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
renameSync(`${file}.tmp`, file);
console.log(`wrote ${file}`);
