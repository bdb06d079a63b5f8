// `node examples/browser/scripts/bench.mjs [--reps N]` (also `pnpm --filter @nabla/example-browser bench`): the
// training step's samples/s in headless Chromium, nabla beside TF.js, as one JSON line (see src/node/bench.ts).
// Runs the bundle in dist/, so the example must be built (`pnpm build` at the root) first.
import { existsSync } from "node:fs";

const bundle = new URL("../dist/node/bench.js", import.meta.url);
if (!existsSync(bundle)) {
  console.error(
    "bench: examples/browser/dist is missing: run `pnpm build` (or `node scripts/build.mjs` here)",
  );
  process.exit(2);
}
await import(bundle.href);
