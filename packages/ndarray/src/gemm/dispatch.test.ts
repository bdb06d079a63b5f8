import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { Rng } from "../rng.js";
import { type Tensor, zeros } from "../tensor.js";
import { gemm, gemmKernelInfo, setGemmKernel } from "./index.js";

function randomTensor(rng: Rng, rows: number, cols: number): Tensor {
  const t = zeros([rows, cols]);
  rng.fillNormal(t);
  return t;
}

describe("gemm dispatch", () => {
  afterAll(() => setGemmKernel("auto"));

  it("auto picks reference for tiny, wasm for medium and the parallel/native kernel for large float32", () => {
    setGemmKernel("auto");
    const rng = new Rng(1);
    gemm(false, false, 1, randomTensor(rng, 4, 4), randomTensor(rng, 4, 4), 0, zeros([4, 4]));
    expect(gemmKernelInfo().lastKernel).toBe("reference");
    gemm(false, false, 1, randomTensor(rng, 64, 64), randomTensor(rng, 64, 64), 0, zeros([64, 64]));
    expect(gemmKernelInfo().lastKernel).toBe("wasm");
    gemm(false, true, 1, randomTensor(rng, 128, 256), randomTensor(rng, 128, 256), 0, zeros([128, 128]));
    expect(gemmKernelInfo().lastKernel).toBe(gemmKernelInfo().kernel.replace("auto:", ""));
    gemm(false, false, 1, zeros([2, 2], "float64"), zeros([2, 2], "float64"), 0, zeros([2, 2], "float64"));
    expect(gemmKernelInfo().lastKernel).toBe("reference");
  });

  it("every fast kernel gives bit-identical results (each C element sums in the same order)", () => {
    const rng = new Rng(2);
    const A = randomTensor(rng, 131, 257);
    const B = randomTensor(rng, 190, 257);
    const results = gemmKernelInfo()
      .available.filter((k) => k !== "reference")
      .map((k) => {
        setGemmKernel(k);
        return gemm(false, true, 0.5, A, B, 0, zeros([131, 190])).data;
      });
    for (const r of results) expect(r).toEqual(results[0]);
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
