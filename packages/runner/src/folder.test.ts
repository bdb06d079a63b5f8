import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { z } from "zod";
import { tempDir, tinySpec } from "../test/helpers.js";
import { runExperimentsFolder } from "./folder.js";
import { registerTask } from "./tasks.js";

function folder(specs: Record<string, unknown>): string {
  const dir = tempDir();
  for (const [file, spec] of Object.entries(specs)) writeFileSync(join(dir, file), JSON.stringify(spec));
  return dir;
}

describe("experiments folder", () => {
  const dir = tempDir();
  writeFileSync(join(dir, "count.js"), "");
  registerTask({
    kind: "count",
    schema: z.strictObject({ upTo: z.number().int().positive() }),
    run: ({ upTo }) => Array.from({ length: upTo }, (_, i) => i + 1),
    code: [join(dir, "count.js")],
  });

  test("runs training specs, sweeps and tasks, each cached on its own", async () => {
    const specs = folder({
      "a.json": tinySpec({ name: "a", epochs: 1 }),
      "b.json": { ...tinySpec({ name: "b", epochs: 1 }), grid: { lr: [0.01, 0.02] } },
      "c.json": { name: "c", kind: "count", upTo: 3 },
    });
    const resultsDir = join(specs, "results");
    const lines: string[] = [];
    const first = await runExperimentsFolder({
      dir: specs,
      resultsDir,
      workers: 2,
      log: (l) => lines.push(l),
    });
    expect(first.failures).toEqual([]);
    expect(first.runs.map((r) => [r.results.name, r.cached])).toEqual([
      ["a", false],
      ["b-lr=0.01", false],
      ["b-lr=0.02", false],
    ]);
    expect(first.tasks.map((t) => [t.results.name, t.results.result])).toEqual([["c", [1, 2, 3]]]);
    expect(readdirSync(resultsDir).sort()).toEqual([
      "a.json",
      "a.safetensors",
      "b-lr=0.01.json",
      "b-lr=0.01.safetensors",
      "b-lr=0.02.json",
      "b-lr=0.02.safetensors",
      "c.json",
    ]);
    expect(lines).toContain("b: 2/2 results (0 cached)");
    const second = await runExperimentsFolder({ dir: specs, resultsDir, workers: 2 });
    expect([...second.runs, ...second.tasks].every((o) => o.cached)).toBe(true);
    const only = await runExperimentsFolder({ dir: specs, resultsDir, only: ["c"], force: true });
    expect(only.runs).toEqual([]);
    expect(only.tasks.map((t) => t.cached)).toEqual([false]);
  });

  test("every spec is validated before anything runs", async () => {
    const specs = folder({
      "a.json": tinySpec({ name: "a", epochs: 1 }),
      "b.json": { name: "b", kind: "count", upTo: -1 },
    });
    const resultsDir = join(specs, "results");
    await expect(runExperimentsFolder({ dir: specs, resultsDir })).rejects.toThrow(
      `${join(specs, "b.json")}: upTo: expected a number > 0, got -1`,
    );
    expect(existsSync(resultsDir)).toBe(false);
    const clash = folder({
      "a.json": tinySpec({ name: "x" }),
      "b.json": { name: "x", kind: "count", upTo: 1 },
    });
    await expect(runExperimentsFolder({ dir: clash, resultsDir })).rejects.toThrow(
      `${join(clash, "b.json")}: results name "x" is also produced by ${join(clash, "a.json")}`,
    );
    await expect(runExperimentsFolder({ dir: join(specs, "none"), resultsDir })).rejects.toThrow(
      "expected a folder of experiment specs",
    );
    const valid = folder({ "a.json": tinySpec({ name: "a" }) });
    await expect(runExperimentsFolder({ dir: valid, resultsDir, only: ["zz"] })).rejects.toThrow(
      "only: no experiment named zz",
    );
  });
});
