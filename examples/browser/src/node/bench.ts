/**
 * `node scripts/bench.mjs [--reps N]`: serves dist/ cross-origin isolated on 127.0.0.1, opens bench.html in
 * headless Chromium and prints one JSON line: samples/s per repetition of the default training step for nabla
 * (2 threads and 1; the plain SIMD build and, from a second page, the relaxed-SIMD one) and TF.js's wasm
 * backend (explicit-transpose and stock matMul), with the Chromium version. The format is in the README.
 * Progress and problems go to stderr; exit 1 when the page fails or logs an error.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { launchChromium, openWatchedPage } from "./chromium.js";
import { startStaticServer } from "./static-server.js";

const dist = join(dirname(fileURLToPath(import.meta.url)), "..");
const repsFlag = process.argv.indexOf("--reps");
const reps = repsFlag >= 0 ? Number(process.argv[repsFlag + 1]) : Number(process.env.BENCH_REPS ?? 7);
if (!(Number.isInteger(reps) && reps >= 1)) {
  console.error(`bench: --reps must be a positive integer, got ${process.argv[repsFlag + 1]}`);
  process.exit(2);
}

const server = await startStaticServer({ root: dist, crossOriginIsolated: true });
const chromium = await launchChromium();
let status = 0;
try {
  const version = await chromium.browser.version();
  console.error(`bench: ${version}, ${reps} repetitions, ${server.url}bench.html`);
  const run = async (query: string): Promise<Record<string, unknown>> => {
    const watched = await openWatchedPage(chromium.browser, `${server.url}bench.html?reps=${reps}${query}`);
    await watched.page.waitForFunction("window.nablaBench.state !== 'running'", { timeout: 0 });
    const outcome = (await watched.page.evaluate("window.nablaBench")) as {
      state: string;
      result?: Record<string, unknown>;
      error?: string;
    };
    await watched.page.close();
    if (outcome.state !== "done") throw new Error(`bench page failed: ${outcome.error}`);
    if (watched.problems.length > 0) {
      console.error(`bench: the page reported problems:\n  ${watched.problems.join("\n  ")}`);
      status = 1;
    }
    return outcome.result as Record<string, unknown>;
  };
  const plain = await run("");
  const relaxed = await run("&relaxed=1");
  console.log(
    JSON.stringify({
      chromium: version,
      ...plain,
      nablaRelaxed: relaxed.nabla,
      nablaRelaxedOneThread: relaxed.nablaOneThread,
      gemmRelaxed: relaxed.gemm,
    }),
  );
} catch (error) {
  console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
  status = 1;
} finally {
  await chromium.close();
  await server.close();
}
process.exit(status);
