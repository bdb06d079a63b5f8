// `pnpm example:browser` at the root (which builds first) or `node scripts/serve.mjs [--port N] [--no-isolation]`
// here: serves dist/ on 127.0.0.1 and prints the URL (see src/node/serve.ts).
import { existsSync } from "node:fs";

const bundle = new URL("../dist/node/serve.js", import.meta.url);
if (!existsSync(bundle)) {
  console.error(
    "example:browser: examples/browser/dist is missing: run `pnpm build` (or `node scripts/build.mjs` here)",
  );
  process.exit(2);
}
await import(bundle.href);
