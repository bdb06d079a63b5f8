/**
 * Issue #15 part 3: the same seeded training run (src/training/losses-check.ts: the homework MLP, SGD, the
 * runner's trainLoop and nablaModel step) gives bit-identical losses in Node on the WebAssembly kernels and
 * in headless Chromium: threaded (cross-origin isolated, on the page's main thread and in a Web Worker),
 * single-thread (setGemmThreads(1)) and on a page without isolation (the unshared build). Values are compared
 * as the hex of their float64 bits. No timing is asserted: the machine may be busy.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CheckResult } from "../src/check/run-check.js";
import { type BrowserSetup, DIST, pageOutcome, startBrowserSetup } from "./helpers.js";

const run = promisify(execFile);

/** The check in a fresh Node process on the WebAssembly kernels (the native addon disabled). */
async function nodeCheck(threads: 1 | 2, relaxed = false): Promise<CheckResult> {
  const flags = relaxed ? ["--experimental-wasm-relaxed-simd"] : [];
  const { stdout } = await run(
    process.execPath,
    [...flags, join(DIST, "node", "losses.js"), "--threads", `${threads}`],
    {
      env: {
        ...process.env,
        NABLA_GEMM_NATIVE: "0",
        NABLA_WASM_RELAXED: relaxed ? "1" : "0",
        NABLA_KERNEL_NOTICE: "0",
      },
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  return JSON.parse(stdout.trim().split("\n").at(-1) as string) as CheckResult;
}

let setup: BrowserSetup;
const node: Record<"threaded" | "single" | "relaxed", CheckResult> = {} as never;

beforeAll(async () => {
  setup = await startBrowserSetup();
  node.threaded = await nodeCheck(2);
  node.single = await nodeCheck(1);
  node.relaxed = await nodeCheck(2, true);
});

afterAll(async () => {
  await setup?.close();
});

async function chromiumCheck(server: "isolated" | "plain", query: string): Promise<CheckResult> {
  const { outcome, watched } = await pageOutcome<CheckResult>(
    setup,
    `${setup[server].url}check.html?${query}`,
    "nablaCheck",
  );
  expect(outcome.error, "the check page failed").toBeUndefined();
  expect(outcome.state).toBe("done");
  expect(watched.problems, `console:\n${watched.console.join("\n")}`).toEqual([]);
  const result = outcome.result as CheckResult;
  // the helper thread neither failed nor timed out during training
  expect(result.after.threads).toBe(result.before.threads);
  expect(result.after.notes.join("; ")).not.toMatch(/worker/);
  return result;
}

describe("Node on the WebAssembly kernels", () => {
  it("runs the parallel kernel on 2 threads, and on 1 after setGemmThreads(1), with the same bits", () => {
    expect(node.threaded.before).toMatchObject({
      platform: "node",
      kernel: "auto:parallel",
      threads: 2,
      isa: "wasm-simd128",
    });
    expect(node.single.before).toMatchObject({ platform: "node", kernel: "auto:parallel", threads: 1 });
    expect(node.single.report.bits).toEqual(node.threaded.report.bits);
    // the run trains: the loss falls and validation accuracy is above chance
    const losses = node.threaded.report.values.trainLoss;
    expect(losses.at(-1)).toBeLessThan(losses[0]);
    expect(node.threaded.report.values.valAccuracy.at(-1)).toBeGreaterThan(0.2);
  });
});

describe("Chromium equals Node bit for bit", () => {
  it("cross-origin isolated, main thread, 2 threads (the parallel kernel on a Web Worker helper)", async () => {
    const result = await chromiumCheck("isolated", "threads=2");
    expect(result.crossOriginIsolated).toBe(true);
    expect(result.before).toMatchObject({
      platform: "browser",
      kernel: "auto:parallel",
      threads: 2,
      isa: "wasm-simd128",
    });
    expect(result.report.bits).toEqual(node.threaded.report.bits);
  });

  it("cross-origin isolated, main thread, setGemmThreads(1)", async () => {
    const result = await chromiumCheck("isolated", "threads=1");
    expect(result.before).toMatchObject({ platform: "browser", kernel: "auto:parallel", threads: 1 });
    expect(result.report.bits).toEqual(node.single.report.bits);
  });

  it("cross-origin isolated, in a Web Worker, 2 threads (as the example trains)", async () => {
    const result = await chromiumCheck("isolated", "where=worker&threads=2");
    expect(result.before).toMatchObject({ platform: "browser", kernel: "auto:parallel", threads: 2 });
    expect(result.report.bits).toEqual(node.threaded.report.bits);
  });

  it("not isolated: the unshared WebAssembly build on one thread", async () => {
    const result = await chromiumCheck("plain", "threads=2");
    expect(result.crossOriginIsolated).toBe(false);
    expect(result.before).toMatchObject({ platform: "browser", kernel: "auto:wasm", threads: 1 });
    expect(result.before.notes.join("; ")).toMatch(/not cross-origin isolated/);
    expect(result.report.bits).toEqual(node.threaded.report.bits);
  });

  it("relaxed SIMD (fused multiply-add): Chromium's default build equals Node 20's behind its flag", async () => {
    expect(node.relaxed.before.isa).toBe("wasm-relaxed-simd");
    const result = await chromiumCheck("isolated", "threads=2&relaxed=1");
    expect(result.before).toMatchObject({ kernel: "auto:parallel", threads: 2, isa: "wasm-relaxed-simd" });
    expect(result.report.bits).toEqual(node.relaxed.report.bits);
  });
});
