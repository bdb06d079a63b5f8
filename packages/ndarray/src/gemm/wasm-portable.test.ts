import { describe, expect, it } from "vitest";
import { gemmSharedWasmBase64, gemmWasmBase64 } from "../generated/gemm-wasm.js";
import { Rng } from "../rng.js";
import { zeros } from "../tensor.js";
import { gemmKernelInfo, setGemmKernel, setGemmThreads } from "./index.js";
import { WasmGemm } from "./wasm.js";
import { decodeBase64 } from "./wasm-builds.js";

describe("the pieces of the browser build that also run in Node", () => {
  it("decodes the embedded modules to the same bytes as Node's Buffer", () => {
    for (const text of [gemmWasmBase64, gemmSharedWasmBase64, "", "AA==", "/+8="]) {
      expect(Array.from(decodeBase64(text))).toEqual(Array.from(Buffer.from(text, "base64")));
    }
  });

  it("the unshared-memory build (pages that are not cross-origin isolated) gives the shared build's bits", () => {
    const unshared = new WasmGemm({ relaxed: false, shared: false });
    const shared = new WasmGemm({ relaxed: false, shared: true });
    expect(unshared.shared).toBe(false);
    expect(unshared.maxThreads).toBe(1);
    const rng = new Rng(9);
    const A = zeros([70, 300]);
    const B = zeros([90, 300]);
    rng.fillNormal(A);
    rng.fillNormal(B);
    const one = unshared.run(false, true, 1, A, B, 0, zeros([70, 90]), 2).data;
    expect(one).toEqual(shared.run(false, true, 1, A, B, 0, zeros([70, 90]), 2).data);
    expect(one).toEqual(shared.run(false, true, 1, A, B, 0, zeros([70, 90]), 1).data);
  });

  it("gemmKernelInfo().threads follows setGemmThreads", () => {
    try {
      setGemmKernel("auto");
      const most = gemmKernelInfo().threads;
      setGemmThreads(1);
      expect(gemmKernelInfo().threads).toBe(1);
      setGemmThreads(2);
      expect(gemmKernelInfo().threads).toBe(most);
      expect(gemmKernelInfo().platform).toBe("node");
    } finally {
      setGemmThreads(2);
    }
  });
});
