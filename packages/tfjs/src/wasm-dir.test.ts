import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultWasmBinaryDir as browserDefault } from "./wasm-dir/browser.js";

describe("where the wasm backend finds its .wasm files", () => {
  it("in Node: the installed tfjs-backend-wasm's dist/, holding all three builds", async () => {
    const { wasmBinaryDir } = await import("./backend.js");
    const dir = wasmBinaryDir();
    expect(dir.endsWith("/dist/")).toBe(true);
    for (const file of [
      "tfjs-backend-wasm.wasm",
      "tfjs-backend-wasm-simd.wasm",
      "tfjs-backend-wasm-threaded-simd.wasm",
    ]) {
      expect(existsSync(join(dir, file))).toBe(true);
    }
  });

  it("in a browser: beside the page", () => {
    expect(browserDefault()).toBe("./");
  });

  it("setWasmBinaryDir takes a directory ending in / and rejects anything else", async () => {
    const { setWasmBinaryDir, wasmBinaryDir } = await import("./backend.js");
    expect(() => setWasmBinaryDir("https://example.test/tfjs")).toThrow(/ending in "\/"/);
    setWasmBinaryDir("https://example.test/tfjs/");
    expect(wasmBinaryDir()).toBe("https://example.test/tfjs/");
  });
});
