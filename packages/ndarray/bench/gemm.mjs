// GEMM benchmark (not a test): GFLOP/s of the default MLP's GEMM shapes (batch 128, 3072-128-10) for every
// kernel that loaded, next to numpy (python3) measured in the same run, with ratios. Run `pnpm bench` after
// `pnpm build`. Writes bench/out/gemm.json. Median of REPS timed batches; each batch runs >= 30 ms.
import { execFileSync } from "node:child_process";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gemm, gemmKernelInfo, Rng, setGemmKernel, setGemmThreads, zeros } from "../dist/index.js";

const REPS = 7;
const BATCH_MS = 30;
const B = 128;

// [name, transA, transB, A shape, B shape, C shape] exactly as a Linear layer calls gemm.
const shapes = [
  ["L1 forward  Y=X·Wᵀ   [128x3072]·[128x3072]ᵀ", false, true, [B, 3072], [128, 3072], [B, 128]],
  ["L1 dW       dYᵀ·X    [128x128]ᵀ·[128x3072]", true, false, [B, 128], [B, 3072], [128, 3072]],
  ["L1 dX       dY·W     [128x128]·[128x3072]", false, false, [B, 128], [128, 3072], [B, 3072]],
  ["L2 forward  Y=X·Wᵀ   [128x128]·[10x128]ᵀ", false, true, [B, 128], [10, 128], [B, 10]],
  ["L2 dW       dYᵀ·X    [128x10]ᵀ·[128x128]", true, false, [B, 10], [B, 128], [10, 128]],
  ["L2 dX       dY·W     [128x10]·[10x128]", false, false, [B, 10], [10, 128], [B, 128]],
];

const flops = (s) => 2 * s[5][0] * s[5][1] * (s[1] ? s[3][0] : s[3][1]);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function timeNabla(s, kernel, threads) {
  setGemmKernel(kernel);
  setGemmThreads(threads);
  const rng = new Rng(1);
  const a = zeros(s[3]);
  const b = zeros(s[4]);
  const c = zeros(s[5]);
  rng.fillNormal(a);
  rng.fillNormal(b);
  const run = () => gemm(s[1], s[2], 1, a, b, 0, c);
  run();
  let iters = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) run();
    const dt = performance.now() - t0;
    if (dt >= BATCH_MS || (kernel === "reference" && dt > 5)) break;
    iters *= 2;
  }
  const rates = [];
  for (let r = 0; r < (kernel === "reference" ? 3 : REPS); r++) {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) run();
    rates.push((flops(s) * iters) / ((performance.now() - t0) / 1000) / 1e9);
  }
  return median(rates);
}

function timeNumpy(threads) {
  const py = `
import json, time, numpy as np
shapes = json.loads(${JSON.stringify(JSON.stringify(shapes.map((s) => [s[1], s[2], s[3], s[4]])))})
rng = np.random.default_rng(1)
out = []
for ta, tb, sa, sb in shapes:
    a = rng.standard_normal(sa, dtype=np.float32); b = rng.standard_normal(sb, dtype=np.float32)
    f = (lambda a=a, b=b, ta=ta, tb=tb: (a.T if ta else a) @ (b.T if tb else b))
    c = f(); m, n = c.shape; k = a.shape[0] if ta else a.shape[1]
    iters = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(iters): f()
        if time.perf_counter() - t0 >= ${BATCH_MS / 1000}: break
        iters *= 2
    rates = []
    for _ in range(${REPS}):
        t0 = time.perf_counter()
        for _ in range(iters): f()
        rates.append(2 * m * n * k * iters / (time.perf_counter() - t0) / 1e9)
    out.append(sorted(rates)[len(rates) // 2])
print(json.dumps({"numpy": np.__version__, "rates": out}))
`;
  try {
    return JSON.parse(
      execFileSync("python3", ["-c", py], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        env: threads ? { ...process.env, OPENBLAS_NUM_THREADS: String(threads) } : process.env,
      }),
    );
  } catch (e) {
    return {
      skipped: `numpy not measured: ${String(e.stderr || e.message)
        .trim()
        .split("\n")
        .pop()}`,
    };
  }
}

const info = gemmKernelInfo();
// Columns: every kernel that loaded (parallel and native on both cores), native restricted to 1 thread, then
// numpy with OpenBLAS's default threads and with 1 thread.
const variants = info.available.map((k) => ({ label: k, kernel: k, threads: 2 }));
if (info.available.includes("native")) variants.push({ label: "native-1T", kernel: "native", threads: 1 });
const fast = info.available[info.available.length - 1];
console.log(
  `kernels: ${info.available.join(", ")}; auto uses ${info.kernel} (${info.isa}, ${info.threads} threads)`,
);
for (const note of info.notes) console.log(`note: ${note}`);
const results = shapes.map((s) => {
  const row = { shape: s[0], mflop: flops(s) / 1e6 };
  for (const v of variants) {
    console.error(`measuring ${v.label} ${s[0]}`);
    row[v.label] = timeNabla(s, v.kernel, v.threads);
  }
  return row;
});
setGemmKernel("auto");
setGemmThreads(2);
console.error("measuring numpy");
const np = timeNumpy(null);
const np1 = timeNumpy(1);
const pad = (x, w) => String(x).padStart(w);
const fmt = (x) => (x == null ? "-" : x.toFixed(1));
const labels = [...variants.map((v) => v.label), "numpy", "numpy-1T"];
const load = loadavg()[0];
console.log(
  `\nGFLOP/s, median of ${REPS} (numpy ${np.numpy ?? "-"}; 1-min load average ${load.toFixed(2)}); ratio = ${fast} / numpy`,
);
console.log(`${"shape".padEnd(44)}${labels.map((l) => pad(l, 10)).join("")}${pad("ratio", 8)}`);
results.forEach((r, i) => {
  r.numpy = np.rates ? np.rates[i] : null;
  r["numpy-1T"] = np1.rates ? np1.rates[i] : null;
  r.ratio = r.numpy ? r[fast] / r.numpy : null;
  console.log(
    `${r.shape.padEnd(44)}${labels.map((l) => pad(fmt(r[l]), 10)).join("")}${pad(r.ratio ? r.ratio.toFixed(2) : "-", 8)}`,
  );
});
if (np.skipped) console.log(np.skipped);
const outDir = join(dirname(fileURLToPath(import.meta.url)), "out");
mkdirSync(outDir, { recursive: true });
const file = join(outDir, "gemm.json");
const record = {
  date: new Date().toISOString(),
  loadAverage: load,
  info,
  numpy: np.numpy ?? null,
  fastKernel: fast,
  results,
};
writeFileSync(`${file}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
renameSync(`${file}.tmp`, file);
console.log(`wrote ${file}`);
