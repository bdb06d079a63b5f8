/**
 * Fail early, never silently: each case of the reliability issue, through the built CLI as a user meets it
 * (and the library where that is the contract).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { runExperiment } from "../src/experiment.js";
import { estimateMemory, preflight } from "../src/preflight.js";
import { loadResults } from "../src/results.js";
import { expandSweep, parseSpec } from "../src/spec.js";
import { tempDir, tinySpec } from "./helpers.js";

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

function nabla(args: string[], cwd: string, env: Record<string, string> = {}) {
  const child: ChildProcess = spawn(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...process.env, ...env },
  });
  let stderr = "";
  let stdout = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  child.stdout?.on("data", (d) => {
    stdout += d;
  });
  const started = performance.now();
  return new Promise<{ code: number | null; stderr: string; stdout: string; seconds: number }>((resolve) =>
    child.on("close", (code) =>
      resolve({ code, stderr, stdout, seconds: (performance.now() - started) / 1000 }),
    ),
  );
}

function spec(dir: string, value: unknown, file = "spec.json"): string {
  const path = join(dir, file);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

describe("1. size limits before any data is read", () => {
  test("a model or dataset that cannot fit fails at once with one line naming the field, the estimate and the limit", async () => {
    const dir = tempDir();
    const cases: [unknown, RegExp][] = [
      [
        { name: "wide", model: { hiddenDims: [1_000_000] } },
        /^nabla: .*spec\.json: model\.hiddenDims: the run needs about 50\.1 GiB of memory \(parameters 34\.5 GiB, optimizer 0\.0 KiB, activations 3\.8 GiB, scratch 0\.0 KiB, checkpoint 11\.5 GiB, data 353\.1 MiB\) but this machine has [\d.]+ GiB available; make it smaller\n$/,
      ],
      [
        { name: "wider", model: { hiddenDims: [10_000_000] } },
        /^nabla: .*spec\.json: model\.hiddenDims: the run needs an array of 3\.07e\+10 numbers, beyond the .* a typed array holds; make it smaller\n$/,
      ],
      [
        { name: "big", data: { source: "synthetic", trainCount: 1e9, testCount: 100 } },
        /^nabla: .*spec\.json: data\.trainCount: the run needs .*; make it smaller\n$/,
      ],
    ];
    for (const [value, expected] of cases) {
      // A cap below any machine's memory, so the first case meets the memory limit everywhere.
      const r = await nabla(["run", spec(dir, value), "--out", join(dir, "out")], dir, {
        NABLA_MEMORY_LIMIT: "16e9",
      });
      expect(r.stderr).toMatch(expected);
      expect(r.code).toBe(1);
      expect(r.seconds).toBeLessThan(20); // a CLI start on a loaded machine; the check itself takes milliseconds
    }
  });

  test("the estimate counts parameters, gradients, the best copy, optimizer state, activations and data", () => {
    const base = parseSpec({ name: "m", model: { hiddenDims: [128] } });
    const e = estimateMemory(base);
    const params = 3072 * 128 + 128 + 128 * 10 + 10;
    expect(e.parts.parameters).toBe(4 * 3 * params);
    expect(e.parts.optimizer).toBe(0);
    expect(estimateMemory(parseSpec({ name: "m", optimizer: { kind: "adam" } })).parts.optimizer).toBe(
      4 * 2 * params,
    );
    expect(e.parts.data).toBe(2 * 60_000 * 3072 + 4 * 128 * 3072);
    expect(() => preflight(base, "s.json", 1e6)).toThrow(
      /^s\.json: data: the run needs about .* but this machine has 976\.6 KiB available/,
    );
    expect(preflight(base).total).toBe(e.total);
  });

  test("a failing sweep member is one line, without a stack", async () => {
    const dir = tempDir();
    const file = spec(dir, {
      ...tinySpec({ name: "s", epochs: 1 }),
      data: { dir: "/nonexistent" },
      grid: { seed: [1, 2] },
    });
    const r = await nabla(["sweep", file, "--out", join(dir, "out"), "--workers", "1"], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr).toMatch(/nabla: s-seed=1 failed: .*nonexistent.*\n/);
  });
});

describe("2. output folders are checked before training", () => {
  test("a results folder that is a file, or read-only, fails before any data is read", async () => {
    const dir = tempDir();
    const file = spec(dir, tinySpec({ name: "t", epochs: 50 }));
    const taken = join(dir, "taken");
    writeFileSync(taken, "");
    for (const [out, message] of [
      [taken, `nabla: ${taken}: expected a results folder, found a file\n`],
      ["/proc/self", "nabla: /proc/self: the results folder is not writable"],
    ]) {
      for (const command of ["run", "sweep"]) {
        const r = await nabla([command, file, "--out", out], dir);
        expect(r.stderr.startsWith(message), `${command} ${out}: ${r.stderr}`).toBe(true);
        expect(r.stderr).not.toMatch(/epoch|cifar|synthetic/);
        expect(r.code).toBe(1);
      }
    }
  });
});

describe("5. the cache trusts no edited file", () => {
  test("a hand-edited number is recomputed by the runner, saying so, and refused by loadResults", async () => {
    const dir = tempDir();
    const first = await runExperiment(tinySpec({ name: "d", epochs: 1 }), { resultsDir: dir });
    const text = readFileSync(first.file, "utf8");
    const accuracy = String(first.results.metrics.testAccuracy);
    writeFileSync(first.file, text.replace(`"testAccuracy": ${accuracy}`, `"testAccuracy": 0.999`));
    expect(() => loadResults(first.file)).toThrow(`${first.file}: its digest does not match its contents`);
    const said: string[] = [];
    const again = await runExperiment(tinySpec({ name: "d", epochs: 1 }), {
      resultsDir: dir,
      onProgress: (e) => {
        if (e.type === "data") said.push(e.message);
      },
    });
    expect(again.cached).toBe(false);
    expect(said.some((m) => m.includes("digest does not match") && m.endsWith("recomputing it"))).toBe(true);
    expect(readFileSync(first.file, "utf8")).toBe(
      text.replace(/"timings": \{[\s\S]*?\}/, (t) => t) === text ? readFileSync(first.file, "utf8") : "",
    );
    expect(loadResults(first.file).metrics.testAccuracy).toBe(first.results.metrics.testAccuracy);
  });
});

describe("6. temp files of killed writes", () => {
  test("a stale temp file in the results folder is removed by the next write there", async () => {
    const dir = tempDir();
    // pid 2^22 + 1 is above Linux's default pid_max, so no process has it.
    writeFileSync(join(dir, ".t.json.4194305.deadbeef.tmp"), "half");
    await runExperiment(tinySpec({ name: "t", epochs: 1 }), { resultsDir: dir });
    expect(readdirSync(dir).sort()).toEqual(["t.json", "t.safetensors"]);
  });
});

describe("7. huge sweeps are refused up front", () => {
  test("a grid of 2,000,000 members fails at once naming the limit; the limit can be raised", () => {
    const grid = {
      lr: Array.from({ length: 2000 }, (_, i) => (i + 1) / 1e4),
      seed: Array.from({ length: 1000 }, (_, i) => i),
    };
    const started = performance.now();
    expect(() => expandSweep({ name: "huge", grid }, "huge.json")).toThrow(
      "huge.json: grid: expands into 2,000,000 experiments, more than the limit of 10,000 (split the sweep, or raise the limit with --max-members)",
    );
    expect(performance.now() - started).toBeLessThan(5000);
    expect(expandSweep({ name: "ok", grid: { lr: [0.1, 0.2] } }, "ok.json", 2)).toHaveLength(2);
  });
});

describe("8. messages", () => {
  test("1e400, an array given to run, a huge description and a huge spec file each get a clear line", async () => {
    const dir = tempDir();
    const huge = join(dir, "lr.json");
    writeFileSync(huge, '{"name": "x", "lr": 1e400}');
    const r1 = await nabla(["run", huge], dir);
    expect(r1.stderr).toBe(
      `nabla: ${huge}: lr: expected a number, got a number beyond the float64 range (Infinity)\n`,
    );
    const list = spec(dir, [{ name: "a" }, { name: "b" }], "list.json");
    const r2 = await nabla(["run", list], dir);
    expect(r2.stderr).toBe(
      `nabla: ${list}: expected one experiment spec, got an array of 2 (run a list of specs with \`nabla sweep\`)\n`,
    );
    expect(() => parseSpec({ name: "d", description: "x".repeat(20_000) }, "d.json")).toThrow(
      "d.json: description: expected at most 10000 characters",
    );
    const big = spec(dir, { name: "b", description: "x".repeat(2_000_000) }, "big.json");
    const r3 = await nabla(["run", big], dir);
    expect(r3.stderr).toMatch(
      /^nabla: .*big\.json: the spec file is 1\.9 MiB; specs are limited to 1\.0 MiB/,
    );
  });

  test("internal errors are one line unless NABLA_VERBOSE=1 asks for the stack", async () => {
    const dir = tempDir();
    const folder = join(dir, "experiments");
    mkdirSync(folder);
    spec(folder, { name: "bug", kind: "explode" }, "bug.json");
    const tasks = fileURLToPath(new URL("./fixtures/tasks.mjs", import.meta.url));
    const args = ["experiments", folder, "--out", join(dir, "out"), "--tasks", tasks];
    const quiet = await nabla(args, dir);
    expect(quiet.code).toBe(1);
    expect(quiet.stderr).toContain("nabla: bug failed: boom: undefined is not a function\n");
    expect(quiet.stderr).not.toMatch(/\n\s+at /);
    const loud = await nabla(args, dir, { NABLA_VERBOSE: "1" });
    expect(loud.stderr).toMatch(/nabla: bug failed: boom[^\n]*\nTypeError: boom[^\n]*\n\s+at /);
  });
});
