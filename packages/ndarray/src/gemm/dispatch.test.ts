import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { platform } from "#platform";
import { Rng } from "../rng.js";
import { type Tensor, zeros } from "../tensor.js";
import { gemm, gemmKernelInfo, setGemmKernel } from "./index.js";
import { nativeGemm } from "./native.js";

function randomTensor(rng: Rng, rows: number, cols: number): Tensor {
  const t = zeros([rows, cols]);
  rng.fillNormal(t);
  return t;
}

describe("gemm dispatch", () => {
  afterAll(() => setGemmKernel("auto"));

  it("auto picks reference for tiny, native or wasm for medium and native or parallel for large float32", () => {
    setGemmKernel("auto");
    const hasNative = gemmKernelInfo().available.includes("native");
    const rng = new Rng(1);
    gemm(false, false, 1, randomTensor(rng, 4, 4), randomTensor(rng, 4, 4), 0, zeros([4, 4]));
    expect(gemmKernelInfo().lastKernel).toBe("reference");
    gemm(false, false, 1, randomTensor(rng, 64, 64), randomTensor(rng, 64, 64), 0, zeros([64, 64]));
    expect(gemmKernelInfo().lastKernel).toBe(hasNative ? "native" : "wasm");
    gemm(false, true, 1, randomTensor(rng, 128, 256), randomTensor(rng, 128, 256), 0, zeros([128, 128]));
    expect(gemmKernelInfo().lastKernel).toBe(gemmKernelInfo().kernel.replace("auto:", ""));
    gemm(false, false, 1, zeros([2, 2], "float64"), zeros([2, 2], "float64"), 0, zeros([2, 2], "float64"));
    expect(gemmKernelInfo().lastKernel).toBe("reference");
  });

  it("wasm on 1 and 2 threads, and native on 1 and 2 threads, give bit-identical results", () => {
    const rng = new Rng(2);
    const A = randomTensor(rng, 131, 257);
    const B = randomTensor(rng, 190, 257);
    setGemmKernel("wasm");
    const single = gemm(false, true, 0.5, A, B, 0, zeros([131, 190])).data;
    setGemmKernel("parallel");
    expect(gemm(false, true, 0.5, A, B, 0, zeros([131, 190])).data).toEqual(single);
    const lib = platform.loadNative();
    if (typeof lib === "string") return; // addon not built here: the reason is in gemmKernelInfo().notes
    const one = nativeGemm(lib, false, true, 0.5, A, B, 0, zeros([131, 190]), 1).data;
    expect(nativeGemm(lib, false, true, 0.5, A, B, 0, zeros([131, 190]), 2).data).toEqual(one);
  });

  it("without the native addon, auto falls back to the WebAssembly kernels and says why", () => {
    const dist = fileURLToPath(new URL("../../dist/index.js", import.meta.url));
    const script = `import * as m from ${JSON.stringify(dist)};
      const a = m.zeros([200, 300]); m.gemm(false, true, 1, a, a, 0, m.zeros([200, 200]));
      console.log(JSON.stringify(m.gemmKernelInfo()));`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      timeout: 30_000,
      encoding: "utf8",
      env: { ...process.env, NABLA_GEMM_NATIVE: "0" },
    });
    expect(r.status, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.kernel).toBe("auto:parallel");
    expect(info.lastKernel).toBe("parallel");
    expect(info.notes.join(" ")).toMatch(/NABLA_GEMM_NATIVE=0/);
  });

  it("helper threads do not keep the process alive", () => {
    const dist = fileURLToPath(new URL("../../dist/index.js", import.meta.url));
    expect(existsSync(dist)).toBe(true); // the package is built before its tests (turbo test dependsOn build)
    const script = `import * as m from ${JSON.stringify(dist)};
      m.setGemmKernel("parallel");
      const a = m.zeros([200, 300]); new m.Rng(1).fillNormal(a);
      m.gemm(false, true, 1, a, a, 0, m.zeros([200, 200]));
      console.log(m.gemmKernelInfo().lastKernel, m.gemmKernelInfo().threads);`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      timeout: 30_000,
      encoding: "utf8",
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^parallel [12]$/);
  });
});
