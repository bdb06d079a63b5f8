import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { resultsSchema } from "../src/results.js";
import { tempDir, tinySpec } from "./helpers.js";

// The built CLI, as a user runs it (the package must be built first; turbo's test task depends on build).
const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function collect(child: ChildProcess): Promise<Ran> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d) => {
    stdout += d;
  });
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

function nabla(args: string[], cwd: string): Promise<Ran> {
  return collect(spawn(process.execPath, [CLI, ...args], { cwd }));
}

function writeSpec(dir: string, spec: unknown, file = "spec.json"): string {
  const path = join(dir, file);
  writeFileSync(path, JSON.stringify(spec));
  return path;
}

describe("nabla CLI", () => {
  test("--help on every command, non-zero without a command", async () => {
    const dir = tempDir();
    for (const args of [["--help"], ["run", "--help"], ["sweep", "-h"], ["data", "--help"]]) {
      const r = await nabla(args, dir);
      expect(r.code, args.join(" ")).toBe(0);
      expect(r.stdout).toMatch(/Usage/);
    }
    expect((await nabla([], dir)).code).toBe(2);
  });

  test("user errors: one line, no stack trace, exit 1; usage errors exit 2", async () => {
    const dir = tempDir();
    const bad = writeSpec(dir, { name: "x", optimizer: { kind: "sgd", mometum: 0.9 } });
    const cases: [string[], number, string][] = [
      [
        ["run", bad],
        1,
        `nabla: ${bad}: optimizer.mometum: unknown field (remove it or check its spelling)\n`,
      ],
      [["run", "missing.json"], 1, "nabla: missing.json: cannot read the spec file (ENOENT)\n"],
      [
        ["frobnicate"],
        2,
        'nabla: unknown command "frobnicate" (expected run, sweep, worker, experiments, eval or data; see nabla --help)\n',
      ],
      [["run", bad, "--fast"], 2, 'nabla: run: unknown option "--fast" (see nabla run --help)\n'],
      [["run"], 2, "nabla: run: expected one spec file, got 0 (see nabla run --help)\n"],
      [["sweep", bad, "--workers"], 2, "nabla: sweep: Option '-w, --workers <value>' argument missing\n"],
      [
        ["sweep", writeSpec(dir, { name: "ok" }, "ok.json"), "--workers", "0"],
        2,
        'nabla: --workers: expected a positive integer, got "0"\n',
      ],
      [["sweep", bad, "--workers", "0"], 2, 'nabla: --workers: expected a positive integer, got "0"\n'],
      [
        ["eval", bad, "--split", "train"],
        2,
        'nabla: --split: expected "test" or "validation", got "train"\n',
      ],
    ];
    for (const [args, code, message] of cases) {
      const r = await nabla(args, dir);
      expect(r.code, args.join(" ")).toBe(code);
      expect(r.stderr).toBe(message);
      expect(r.stdout).toBe("");
    }
  });

  test("--version prints the package's version; NO_COLOR and TERM=dumb give plain progress lines", async () => {
    const dir = tempDir();
    const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    for (const flag of ["--version", "-v"]) {
      const r = await nabla([flag], dir);
      expect(r).toMatchObject({ code: 0, stdout: `nabla ${manifest.version}\n`, stderr: "" });
    }
    const { createProgressRenderer } = await import("../src/progress.js");
    for (const env of [{ NO_COLOR: "1" }, { TERM: "dumb" }]) {
      const saved = { NO_COLOR: process.env.NO_COLOR, TERM: process.env.TERM };
      Object.assign(process.env, env);
      let written = "";
      const renderer = createProgressRenderer({
        isTTY: true,
        columns: 80,
        write: (s: string) => {
          written += s;
          return true;
        },
      } as never);
      renderer.listener({ type: "start", name: "a", epochs: 1, stepsPerEpoch: 2 });
      renderer.listener({
        type: "step",
        name: "a",
        epoch: 1,
        epochs: 1,
        step: 1,
        stepsPerEpoch: 2,
        loss: 1,
        samples: 128,
        epochElapsedSeconds: 1,
      });
      renderer.listener({
        type: "epoch",
        name: "a",
        epoch: 1,
        epochs: 1,
        trainLoss: 1,
        valAccuracy: 0.5,
        valLoss: 1,
        lr: 0.1,
        seconds: 1,
      });
      renderer.clear();
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      expect(written).toContain("a: epoch 1/1");
      expect(written).not.toContain("\x1b");
    }
  });

  test("run writes a valid results file; a second run is a cache hit", async () => {
    const dir = tempDir();
    const spec = writeSpec(dir, tinySpec({ name: "cli" }));
    const first = await nabla(["run", spec, "--out", "res"], dir);
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/cli: epoch 3\/3 {2}train loss \d\.\d{4} {2}val acc/);
    const json = JSON.parse(readFileSync(join(dir, "res", "cli.json"), "utf8"));
    expect(resultsSchema.safeParse(json).success).toBe(true);
    const second = await nabla(["run", spec, "--out", "res"], dir);
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(
      /^cli: ok, test acc [\d.]+% \(best val epoch \d\), cached -> res\/cli\.json\n$/,
    );
  });

  test("SIGINT mid-run stops cleanly and leaves no half-written file", async () => {
    const dir = tempDir();
    const spec = writeSpec(dir, tinySpec({ name: "long", epochs: 500 }));
    const child = spawn(process.execPath, [CLI, "run", spec, "--out", "res"], { cwd: dir });
    const ran = collect(child);
    // Interrupt once the run is under way (after its first epoch line).
    await new Promise<void>((resolve) => {
      child.stderr?.on("data", (d: Buffer) => {
        if (d.toString().includes("long: epoch 1/500")) resolve();
      });
    });
    child.kill("SIGINT");
    const r = await ran;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain("nabla: stopping");
    // Wound down by the loop, or — on a machine too busy to get there within the grace period — by the exit.
    expect(r.stderr).toMatch(
      /nabla: long: cancelled; nothing was written for it|nabla: stopped \(finished results are kept/,
    );
    // The results folder holds no results and no temp file; at most the state of the completed epoch.
    let files: string[] = [];
    try {
      files = readdirSync(join(dir, "res"));
    } catch {}
    expect(files.filter((f) => f !== ".long.state.safetensors")).toEqual([]);
  });

  test("SIGINT during a sweep keeps the finished experiments", async () => {
    const dir = tempDir();
    const specs = [tinySpec({ name: "quick", epochs: 1 }), tinySpec({ name: "slow", epochs: 500 })];
    const spec = writeSpec(dir, specs);
    const child = spawn(process.execPath, [CLI, "sweep", spec, "--out", "res", "--workers", "1"], {
      cwd: dir,
    });
    const ran = collect(child);
    await new Promise<void>((resolve) => {
      child.stderr?.on("data", (d: Buffer) => {
        if (d.toString().includes("slow: epoch 1/500")) resolve();
      });
    });
    child.kill("SIGINT");
    const r = await ran;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(
      /nabla: sweep 1\/2 finished, 1 cancelled|nabla: stopped \(finished results are kept/,
    );
    const files = readdirSync(join(dir, "res")).filter((f) => f !== ".slow.state.safetensors");
    expect(files.sort()).toEqual(["quick.json", "quick.safetensors"]);
    const json = JSON.parse(readFileSync(join(dir, "res", "quick.json"), "utf8"));
    expect(resultsSchema.safeParse(json).success).toBe(true);
  });
});

describe("nabla CLI paths", () => {
  test("data verify / fetch on a folder without CIFAR-10 fail with one line and download nothing", async () => {
    const dir = tempDir();
    const verify = await nabla(["data", "verify", "--dir", dir], dir);
    expect(verify.code).toBe(1);
    expect(verify.stderr).toContain(`BAD  ${join(dir, "data_batch_1.bin")}: missing`);
    expect(verify.stderr.trim().split("\n").at(-1)).toBe(`nabla: CIFAR-10 in ${dir} does not verify`);
    const fetch = await nabla(["data", "fetch", "--dir", dir], dir);
    expect(fetch.code).toBe(1);
    expect(
      fetch.stderr.trim().split("\n").at(-1)?.startsWith(`nabla: ${dir}/data_batch_1.bin: missing`),
    ).toBe(true);
    expect(fetch.stderr).not.toMatch(/\n\s+at /);
    expect(readdirSync(dir)).toEqual([]);
  });

  test("a relative data.dir is relative to the spec file; a bad folder is a one-line error", async () => {
    const dir = tempDir();
    const spec = writeSpec(dir, tinySpec({ name: "d", data: { source: "cifar10", dir: "no-such-folder" } }));
    const r = await nabla(["run", spec], tempDir());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(join(dir, "no-such-folder"));
    expect(r.stderr.trim().split("\n").at(-1)).toMatch(/^nabla: .*no-such-folder/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test("--out naming a file is a one-line error", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "taken"), "x");
    const r = await nabla(["run", writeSpec(dir, tinySpec({ epochs: 1 })), "--out", "taken"], dir);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n").at(-1)).toBe("nabla: taken: expected a results folder, found a file");
  });
});

describe("nabla experiments", () => {
  test("runs a folder with a task module, then answers everything from the cache", async () => {
    const dir = tempDir();
    const specs = join(dir, "experiments");
    mkdirSync(specs);
    writeSpec(specs, tinySpec({ name: "t", epochs: 1 }), "t.json");
    writeSpec(specs, { name: "s", kind: "sum-of-squares", n: 4 }, "s.json");
    const tasks = fileURLToPath(new URL("./fixtures/tasks.mjs", import.meta.url));
    const args = ["experiments", specs, "--out", join(dir, "results"), "--tasks", tasks];
    const first = await nabla(args, dir);
    expect(first.stderr).toMatch(/experiments: 2 results \(2 computed, 0 cached\)/);
    expect(first.code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, "results", "s.json"), "utf8")).result).toEqual({
      n: 4,
      sum: 30,
    });
    const second = await nabla(args, dir);
    expect(second.stderr).toMatch(/experiments: 2 results \(0 computed, 2 cached\)/);
    const missing = await nabla(["experiments", specs, "--out", join(dir, "results")], dir);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/s\.json: kind: expected a registered task \(none registered/);
  });
});
