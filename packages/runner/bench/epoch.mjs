// One training epoch per model kind at the assignment's sizes (hidden 128, batch 128, 45k/5k split), on
// CIFAR-10 when it is available locally (else synthetic data of the same size), plus the cost of a cache hit.
// Usage: pnpm --filter @nabla/runner bench   (builds first)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { verifyCifar10 } from "@nabla/cifar";
import { runExperiment } from "../dist/index.js";

const verified = await verifyCifar10({ onProgress: () => {} });
const data = verified.ok
  ? { source: "cifar10" }
  : { source: "synthetic", trainCount: 50000, testCount: 10000, seed: 0 };
const dir = mkdtempSync(join(tmpdir(), "nabla-runner-bench-"));
console.log(
  `data: ${verified.ok ? `CIFAR-10 (${verified.dir})` : "synthetic, CIFAR-10 sized (CIFAR-10 not cached)"}`,
);
console.log("model      epoch s  steps/s  images/s  val acc  test acc  setup s");
try {
  for (const kind of ["mlp", "mlp-tfjs"]) {
    const spec = { name: `bench-${kind}`, epochs: 1, model: { kind }, data };
    const { results } = await runExperiment(spec, { resultsDir: dir, force: true });
    const t = results.timings;
    const m = results.metrics;
    const seconds = t.epochSeconds[0];
    const steps = m.stepsPerEpoch / seconds;
    console.log(
      `${kind.padEnd(9)} ${seconds.toFixed(2).padStart(8)} ${steps.toFixed(1).padStart(8)} ` +
        `${(steps * 128).toFixed(0).padStart(9)} ${m.valAccuracy[0].toFixed(4).padStart(8)} ` +
        `${m.testAccuracy.toFixed(4).padStart(9)} ${t.setupSeconds.toFixed(2).padStart(8)}` +
        (results.environment.tfjsBackend
          ? `  (TF.js ${results.environment.tfjsBackend})`
          : `  (GEMM ${results.environment.gemm.kernel})`),
    );
  }
  const started = performance.now();
  const hit = await runExperiment(
    { name: "bench-mlp", epochs: 1, model: { kind: "mlp" }, data },
    { resultsDir: dir },
  );
  console.log(
    `cache hit: ${hit.cached}, ${(performance.now() - started).toFixed(1)} ms (key + validated read)`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
