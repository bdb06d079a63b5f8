/**
 * The bench page (what scripts/bench.mjs measures) runs in Chromium without errors: nabla's two kernels and
 * TF.js's wasm backend, served from the same static server, each report samples/s. One repetition, and no
 * assertion on the numbers' size: the machine may be busy.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { type BrowserSetup, pageOutcome, startBrowserSetup } from "./helpers.js";

let setup: BrowserSetup;
beforeAll(async () => {
  setup = await startBrowserSetup();
});
afterAll(async () => {
  await setup?.close();
});

interface Rates {
  samplesPerSecond: number[];
  median: number;
}

it("measures nabla and TF.js's wasm backend in one cross-origin isolated page", async () => {
  const { outcome, watched } = await pageOutcome<Record<string, unknown>>(
    setup,
    `${setup.isolated.url}bench.html?reps=1`,
    "nablaBench",
  );
  expect(outcome.error).toBeUndefined();
  const result = outcome.result as Record<string, unknown>;
  expect(result.gemm).toMatchObject({ kernel: "auto:parallel", threads: 2, isa: "wasm-simd128" });
  expect(result.tfjsWasmFiles).toEqual(["tfjs-backend-wasm-threaded-simd.wasm"]);
  for (const name of ["nabla", "nablaOneThread", "tfjsExplicitTranspose", "tfjsStock"]) {
    const rates = result[name] as Rates;
    expect(rates.samplesPerSecond).toHaveLength(1);
    expect(rates.median).toBeGreaterThan(0);
  }
  expect(watched.problems, watched.console.join("\n")).toEqual([]);
});
