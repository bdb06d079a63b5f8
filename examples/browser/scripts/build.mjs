// Bundles the example with esbuild into dist/: the browser pages (platform=browser, so @nabla/ndarray's
// `#platform` resolves to its browser build), the Node helpers the tests, `pnpm example:browser` and the
// bench run, the static files, and TF.js's wasm binaries (the bench page loads them from the same server).
import { cpSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { wasmBinaryDir } from "@nabla/tfjs";
import { build } from "esbuild";

const here = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(here, "dist");
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const common = { bundle: true, format: "esm", target: "es2022", sourcemap: true, logLevel: "warning" };
await build({
  ...common,
  platform: "browser",
  entryPoints: {
    check: "src/check/check-page.ts",
    "check-worker": "src/check/check-worker.ts",
    bench: "src/bench/bench-page.ts",
    app: "src/app/main.ts",
    worker: "src/app/worker.ts",
  },
  outdir: dist,
  absWorkingDir: here,
  // Chromium logs a 404 for every missing map of a dependency otherwise
  sourcesContent: true,
});
await build({
  ...common,
  platform: "node",
  packages: "external",
  entryPoints: { serve: "src/node/serve.ts", bench: "src/node/bench.ts", losses: "src/node/losses.ts" },
  outdir: join(dist, "node"),
  absWorkingDir: here,
});
cpSync(join(here, "static"), dist, { recursive: true });
const tfjsDir = join(dist, "tfjs");
mkdirSync(tfjsDir);
for (const file of readdirSync(wasmBinaryDir()).filter((f) => f.endsWith(".wasm"))) {
  cpSync(join(wasmBinaryDir(), file), join(tfjsDir, file));
}
