// Results file, checkpoint and training state are replaced so that nobody sees a mix — also when the disk
// fills half way (a fault injected at @nabla/io's atomic write: the only writes that need space).
import { copyFileSync, readdirSync, readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test, vi } from "vitest";
import { tempDir, tinySpec } from "../test/helpers.js";
import { checkpointPath, sha256Hex } from "./checkpoint.js";
import { evaluateCheckpoint } from "./evaluate.js";
import { runExperiment } from "./experiment.js";
import { loadResults, type Results, writeResults } from "./results.js";
import type { ExperimentSpecInput } from "./spec.js";

const fault = vi.hoisted(() => ({ target: undefined as RegExp | undefined }));

vi.mock("@nabla/io", async (importOriginal) => {
  const io = await importOriginal<typeof import("@nabla/io")>();
  return {
    ...io,
    writeFileAtomicSync(target: string, data: Uint8Array | string) {
      if (fault.target?.test(target)) {
        // What a full disk does to an atomic write: it fails, its temp file is removed, the target untouched.
        throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
      }
      io.writeFileAtomicSync(target, data);
    },
  };
});

const v1 = tinySpec({ name: "p", epochs: 2 });
const v2 = { ...v1, lr: 0.02 };

function comparable(r: Results) {
  const { timings: _t, digest: _d, ...rest } = r;
  return JSON.stringify(rest);
}

async function run(spec: ExperimentSpecInput, dir: string) {
  const notes: string[] = [];
  const outcome = await runExperiment(spec, {
    resultsDir: dir,
    onProgress: (e) => {
      if (e.type === "data") notes.push(e.message);
    },
  });
  return { ...outcome, notes };
}

const snapshot = (dir: string) => ({
  results: readFileSync(join(dir, "p.json"), "utf8"),
  checkpoint: readFileSync(join(dir, "p.safetensors")),
});

describe("whole pairs", () => {
  test.each([
    ["the results file", /\/p\.json$/],
    ["the checkpoint", /\/\.p\.[0-9a-f]{16}\.safetensors$/],
  ])(
    "a disk that fills writing %s keeps the old pair byte for byte; the run resumes once there is room",
    async (_, target) => {
      const dir = tempDir();
      await run(v1, dir);
      const before = snapshot(dir);
      fault.target = target;
      try {
        await expect(run(v2, dir)).rejects.toThrow(`${join(dir, "p.json")}: cannot write results (ENOSPC)`);
      } finally {
        fault.target = undefined;
      }
      expect(snapshot(dir)).toEqual(before);
      // The new run's state (its last epoch) is kept, and nothing else was left.
      expect(readdirSync(dir).sort()).toEqual([".p.state.safetensors", "p.json", "p.safetensors"]);
      expect((await evaluateCheckpoint(join(dir, "p.json"))).recorded?.identical).toBe(true);
      const resumed = await run(v2, dir);
      expect(resumed.notes.some((n) => n.startsWith("resuming after epoch 2 of 2"))).toBe(true);
      const reference = await run(v2, tempDir());
      expect(comparable(resumed.results)).toBe(comparable(reference.results));
      expect(readdirSync(dir).sort()).toEqual(["p.json", "p.safetensors"]);
      expect((await evaluateCheckpoint(join(dir, "p.json"))).recorded?.identical).toBe(true);
    },
  );

  test("a disk that fills writing the training state does not stop the run; it says so", async () => {
    fault.target = /\.state\.safetensors$/;
    try {
      const { results, notes } = await run(v1, tempDir());
      expect(notes).toContain(
        "cannot save the training state (ENOSPC); if stopped, it resumes after epoch 0",
      );
      expect(comparable(results)).toBe(comparable((await run(v1, tempDir())).results));
    } finally {
      fault.target = undefined;
    }
  });

  test("a commit cut short leaves no checkpoint, never another run's; the next run of the name completes it", async () => {
    const dir = tempDir();
    const other = tempDir();
    await run(v1, dir);
    await run(v2, other);
    const c1 = readFileSync(join(dir, "p.safetensors"));
    const c2 = readFileSync(join(other, "p.safetensors"));
    const aside = (bytes: Uint8Array) => join(dir, `.p.${sha256Hex(bytes).slice(0, 16)}.safetensors`);
    // Killed after the new results file was committed, before its checkpoint was put in place:
    renameSync(join(dir, "p.safetensors"), aside(c1));
    copyFileSync(join(other, "p.safetensors"), aside(c2));
    copyFileSync(join(other, "p.json"), join(dir, "p.json"));
    await expect(evaluateCheckpoint(join(dir, "p.json"))).rejects.toThrow("no checkpoint for p");
    expect((await run(v2, dir)).cached).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(["p.json", "p.safetensors"]);
    expect(readFileSync(join(dir, "p.safetensors"))).toEqual(c2);
    // Killed after the old checkpoint was moved aside, before the new results file was committed:
    await run(v1, dir);
    renameSync(join(dir, "p.safetensors"), aside(c1));
    copyFileSync(join(other, "p.safetensors"), aside(c2));
    expect((await run(v1, dir)).cached).toBe(true);
    expect(readFileSync(join(dir, "p.safetensors"))).toEqual(c1);
    expect(readdirSync(dir).sort()).toEqual(["p.json", "p.safetensors"]);
    expect((await evaluateCheckpoint(join(dir, "p.json"))).recorded?.identical).toBe(true);
  });

  test("results written without their checkpoint (a queued run's) take another run's checkpoint away", async () => {
    const dir = tempDir();
    await run(v1, dir);
    const elsewhere = loadResults((await run(v2, tempDir())).file);
    writeResults(join(dir, "p.json"), elsewhere);
    expect(readdirSync(dir)).toEqual(["p.json"]);
    expect(loadResults(join(dir, "p.json")).checkpoint?.sha256).toBe(elsewhere.checkpoint?.sha256);
    await expect(evaluateCheckpoint(join(dir, "p.json"))).rejects.toThrow("no checkpoint for p");
    // The checkpoint a results file names, when it is the one beside it, stays.
    const same = loadResults((await run(v1, dir)).file);
    writeResults(join(dir, "p.json"), same);
    expect(sha256Hex(readFileSync(checkpointPath(join(dir, "p.json"))))).toBe(same.checkpoint?.sha256);
  });
});
