import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { tempDir } from "../test/helpers.js";
import {
  cacheKey,
  codeFilesOf,
  describeEnvironment,
  hashCodeFiles,
  packageFingerprint,
} from "./fingerprint.js";
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

  test("a package's code hash is over its built files: recomputed here, it matches; a change changes it", () => {
    for (const name of ["@nabla/runner", "@nabla/ndarray", "@nabla/nn", "@nabla/optim", "@nabla/cifar"]) {
      const fp = packageFingerprint(name);
      expect(fp?.version).toMatch(/^\d+\.\d+\.\d+$/);
      const root = join(import.meta.dirname, "..", "..", name.slice("@nabla/".length));
      const files = codeFilesOf(name, root).sort();
      expect(files.length).toBeGreaterThan(0);
      const hash = createHash("sha256");
      for (const f of files) hash.update(f.slice(root.length)).update("\0").update(readFileSync(f));
      expect(fp?.code).toBe(hash.digest("hex"));
    }
    const dir = tempDir();
    mkdirSync(join(dir, "dist"));
    writeFileSync(join(dir, "dist", "a.js"), "1");
    const before = hashCodeFiles("p", dir, codeFilesOf("p", dir));
    writeFileSync(join(dir, "dist", "a.js"), "2");
    expect(hashCodeFiles("p", dir, codeFilesOf("p", dir))).not.toBe(before);
  });

  test("a package without built code is an error, not an empty hash", () => {
    const dir = tempDir();
    expect(() => hashCodeFiles("@nabla/x", dir, codeFilesOf("@nabla/x", dir))).toThrow(
      `@nabla/x is not built (no code in ${join(dir, "dist")}): run pnpm build`,
    );
    expect(() => hashCodeFiles("@nabla/runner", dir, codeFilesOf("@nabla/runner", dir))).toThrow(
      /@nabla\/runner is not built \(missing .*checkpoint\.js\)/,
    );
  });

  test("TF.js packages only for mlp-tfjs; an unknown package is null", () => {
    expect(packageFingerprint("@nabla/not-a-package")).toBeNull();
    const gemm = { kernel: "auto:wasm", simd: true, threads: 1 };
    const plain = describeEnvironment(spec, gemm);
    expect(Object.keys(plain.packages)).not.toContain("@nabla/tfjs");
    const tf = describeEnvironment(parseSpec({ name: "t", model: { kind: "mlp-tfjs" } }), gemm, "wasm");
    expect(tf.packages["@tensorflow/tfjs-core"]).toMatch(/^\d+\.\d+\.\d+$/);
    expect(environmentSchema.safeParse(tf).success).toBe(true);
  });
});
