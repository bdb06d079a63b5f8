import { describe, expect, test } from "vitest";
import { cacheKey, describeEnvironment, packageFingerprint } from "./fingerprint.js";
import { environmentSchema } from "./results.js";
import { parseSpec } from "./spec.js";

describe("cache key", () => {
  const spec = parseSpec({ name: "k" });

  test("is a sha-256 that changes with every input that shapes results", () => {
    const key = cacheKey(spec, "auto:wasm");
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(cacheKey(spec, "auto:wasm")).toBe(key);
    expect(cacheKey(parseSpec({ name: "other-name" }), "auto:wasm")).toBe(key);
    expect(cacheKey(spec, "reference")).not.toBe(key);
    expect(cacheKey(parseSpec({ name: "k", seed: 1 }), "auto:wasm")).not.toBe(key);
    expect(cacheKey(parseSpec({ name: "k", data: { splitSeed: 1 } }), "auto:wasm")).not.toBe(key);
  });

  test("covers the workspace packages' code, and TF.js only for mlp-tfjs", () => {
    for (const name of ["@nabla/runner", "@nabla/ndarray", "@nabla/nn", "@nabla/optim", "@nabla/cifar"]) {
      expect(packageFingerprint(name)).toMatchObject({
        version: expect.any(String),
        code: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
    }
    expect(packageFingerprint("@nabla/not-a-package")).toBeNull();
    const gemm = { kernel: "auto:wasm", simd: true, threads: 1 };
    const plain = describeEnvironment(spec, gemm);
    expect(Object.keys(plain.packages)).not.toContain("@nabla/tfjs");
    const tf = describeEnvironment(parseSpec({ name: "t", model: { kind: "mlp-tfjs" } }), gemm, "wasm");
    expect(tf.packages["@tensorflow/tfjs-core"]).toMatch(/^\d+\.\d+\.\d+$/);
    expect(environmentSchema.safeParse(tf).success).toBe(true);
  });
});
