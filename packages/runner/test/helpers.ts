import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import type { ExperimentSpecInput } from "../src/spec.js";

/** A fresh temp folder per call, removed after the test. */
const made: string[] = [];
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "nabla-runner-"));
  made.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A small synthetic experiment (about a second): 500 train, 100 validation, 100 test images. */
export function tinySpec(overrides: Partial<ExperimentSpecInput> = {}): ExperimentSpecInput {
  return {
    name: "tiny",
    model: { kind: "mlp", hiddenDims: [16] },
    lr: 0.01,
    batchSize: 50,
    epochs: 3,
    seed: 7,
    data: { source: "synthetic", trainCount: 600, testCount: 100, validationSize: 100, seed: 3 },
    ...overrides,
  };
}

/** Results without the parts that legitimately differ between two identical runs (the digest covers timings). */
export function withoutTimings<T extends { timings: unknown; environment: unknown; digest?: unknown }>(
  results: T,
) {
  const { timings: _t, environment: _e, digest: _d, ...rest } = results;
  return rest;
}
