import { describe, expect, it, vi } from "vitest";
import { randomBatch, randomLayers } from "../test/reference.js";

// Simulates a platform where the wasm backend cannot start (this file runs in its own worker).
vi.mock("@tensorflow/tfjs-backend-wasm", async (importOriginal) => ({
  ...(await importOriginal<object>()),
  setWasmPaths: () => {
    throw new Error("simulated: no WebAssembly here");
  },
}));

describe("wasm -> cpu fallback", () => {
  it("falls back to cpu, records why, and still trains", async () => {
    const { createTfjsMlp } = await import("./index.js");
    const mlp = await createTfjsMlp({ layers: randomLayers([5, 4, 3], 2) });
    expect(mlp.backendName).toBe("cpu");
    expect(mlp.simd).toBe(false);
    expect(mlp.wasmMatMul).toBe("stock");
    expect(mlp.backendFallbackReason).toMatch(
      /wasm backend failed to initialise: simulated: no WebAssembly here/,
    );
    const { x, labels } = randomBatch(5, 3, 4, 1);
    expect(mlp.trainStep(x, labels, 4, 0.1)).toBeGreaterThan(0);
    mlp.dispose();
    // the failure is remembered: later models go straight to cpu with the same reason
    const again = await createTfjsMlp({ layers: randomLayers([5, 4, 3], 2), backend: "wasm" });
    expect(again.backendFallbackReason).toBe(mlp.backendFallbackReason);
    again.dispose();
  });
});
