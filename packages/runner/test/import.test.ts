import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { isUserFacing, UserError } from "../src/errors.js";
import { tempDir, tinySpec } from "./helpers.js";

// The built CLI, as a user runs it (the package must be built first; turbo's test task depends on build).
const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const REGISTRATIONS = fileURLToPath(new URL("./fixtures/registrations.mjs", import.meta.url));
const FAILING = fileURLToPath(new URL("./fixtures/failing-layers.mjs", import.meta.url));

function nabla(
  args: string[],
  cwd: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child: ChildProcess = spawn(process.execPath, [CLI, ...args], { cwd });
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

function writeSpec(dir: string, spec: unknown): string {
  const path = join(dir, "spec.json");
  writeFileSync(path, JSON.stringify(spec));
  return path;
}

const halved = (name: string) =>
  tinySpec({
    name,
    epochs: 1,
    model: { kind: "sequential", layers: [{ linear: 8 }, "halve", "relu", { linear: 10 }] },
  });

describe("nabla run/sweep --import", () => {
  test("run: a module (relative to the cwd) registers a layer the spec uses; without it the layer is unknown", async () => {
    const dir = tempDir();
    writeSpec(dir, halved("halved"));
    const without = await nabla(["run", "spec.json"], dir);
    expect(without.code).toBe(1);
    expect(without.stderr).toMatch(/unknown layer "halve"/);
    expect(without.stderr).toMatch(/linear/); // the registered layers are listed
    expect(without.stderr).not.toMatch(/\n\s+at /);

    const r = await nabla(["run", "spec.json", "--import", relative(dir, REGISTRATIONS)], dir);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const results = JSON.parse(readFileSync(join(dir, "results", "halved.json"), "utf8"));
    expect(results.name).toBe("halved");
  });

  test("run --help --import lists the imported layer among the spec fields", async () => {
    const dir = tempDir();
    const plain = await nabla(["run", "--help"], dir);
    expect(plain.stdout).toMatch(/--import module/);
    expect(plain.stdout).not.toMatch(/\bhalve\b/);
    const r = await nabla(["run", "--help", "--import", REGISTRATIONS], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Layers \(model\.layers.*\bhalve\b/s);
  });

  test("sweep --workers 2: the worker threads import the module too", async () => {
    const dir = tempDir();
    writeSpec(dir, { ...halved("hs"), grid: { lr: [0.01, 0.02] } });
    const r = await nabla(["sweep", "spec.json", "--workers", "2", "--import", REGISTRATIONS], dir);
    expect(r.stderr).toMatch(/sweep 2\/2 finished/);
    expect(r.code).toBe(0);
    const again = await nabla(["sweep", "spec.json", "--workers", "2"], dir);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/unknown layer "halve"/);
  });

  test("a module that fails to import is one line naming it and the cause", async () => {
    const dir = tempDir();
    writeSpec(dir, tinySpec());
    for (const command of ["run", "sweep"]) {
      const r = await nabla([command, "spec.json", "--import", "./no-such-module.mjs"], dir);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /^nabla: --import \.\/no-such-module\.mjs: cannot import the module \(.*no-such-module/,
      );
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
    const worker = await nabla(
      ["worker", "--queue", "redis://127.0.0.1:1", "--import", "no-such-package-xyz"],
      dir,
    );
    expect(worker.code).toBe(1);
    expect(worker.stderr).toMatch(/^nabla: --import no-such-package-xyz: cannot import the module/);
  });
});

describe("user errors of every package", () => {
  test("an OptimError / DataError / NnError thrown during `nabla run` is one line, exit 1, no stack", async () => {
    for (const layer of ["optim_fails", "data_fails", "nn_fails"]) {
      const dir = tempDir();
      writeSpec(
        dir,
        tinySpec({ name: layer, model: { kind: "sequential", layers: [layer, { linear: 10 }] } }),
      );
      const r = await nabla(["run", "spec.json", "--import", FAILING], dir);
      expect(r.code, layer).toBe(1);
      expect(r.stderr, layer).toMatch(new RegExp(`^nabla: .*${layer}`));
      expect(r.stderr, layer).not.toMatch(/internal error|\n\s+at /);
      expect(r.stderr.trim().split("\n"), layer).toHaveLength(1);
    }
  });

  test("isUserFacing: any error carrying userFacing = true, by convention rather than by name", () => {
    class PluginError extends Error {
      readonly userFacing = true;
    }
    expect(isUserFacing(new PluginError("x"))).toBe(true);
    expect(isUserFacing(new UserError("x"))).toBe(true);
    const named = new Error("x");
    named.name = "CifarDataError";
    expect(isUserFacing(named)).toBe(false);
    expect(isUserFacing(new TypeError("x"))).toBe(false);
    expect(isUserFacing({ userFacing: true, message: "x" })).toBe(false);
  });
});
