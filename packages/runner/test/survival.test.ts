/**
 * Runs that survive: limits checked before any work (files a run writes, inputs it reads), and every parse
 * error of user input one short line — through the built CLI as a user meets them, and the library where
 * that is the contract.
 */
import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, test } from "vitest";
import { MAX_FILE_BYTES, preflight } from "../src/preflight.js";
import { parseSpec } from "../src/spec.js";
import { tempDir } from "./helpers.js";

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const kills: (() => void)[] = [];
afterEach(() => {
  for (const kill of kills.splice(0)) kill();
});

/** The CLI, killed after `seconds` (a reader that never stops must fail the test, not hang it). */
function nabla(args: string[], cwd: string, seconds = 60) {
  const child = spawn(process.execPath, [CLI, ...args], { cwd });
  const timer = setTimeout(() => child.kill("SIGKILL"), seconds * 1000);
  kills.push(() => child.kill("SIGKILL"));
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  return new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    }),
  );
}

describe("limits before work", () => {
  test("a checkpoint or training state larger than one buffer holds is refused, naming the field and the file", () => {
    expect(MAX_FILE_BYTES).toBe(2 ** 32);
    // About 1.9e9 parameters: 7.1 GiB of checkpoint, while no single array is over the typed-array limit.
    const wide = parseSpec({
      name: "wide",
      model: { layers: [{ linear: 30000 }, { linear: 30000 }, { linear: 30000 }, { linear: 10 }] },
    });
    expect(() => preflight(wide, "wide.json", Number.POSITIVE_INFINITY)).toThrow(
      /^wide\.json: model\.layers: the run's checkpoint \(the best epoch's parameters and buffers\) would be about 7\.1 GiB, over the 4\.0 GiB a file can be encoded in; make it smaller$/,
    );
    expect(() =>
      preflight(parseSpec({ name: "w", model: { hiddenDims: [600_000, 1000] } }), "w.json", Infinity),
    ).toThrow(/^w\.json: model\.hiddenDims: the run's checkpoint/);
    // 4.6e8 parameters: the checkpoint (1.7 GiB) and plain SGD's training state (live and best copies, 3.4 GiB)
    // fit; Adam's two moments make the state 6.9 GiB.
    const layers = [{ linear: 20000 }, { linear: 20000 }, { linear: 10 }];
    const plain = parseSpec({ name: "p", model: { layers } });
    expect(preflight(plain, "p.json", Infinity).files.trainingState).toBeLessThan(MAX_FILE_BYTES);
    const adam = parseSpec({ name: "a", model: { layers }, optimizer: { kind: "adam" } });
    expect(() => preflight(adam, "a.json", Infinity)).toThrow(
      /^a\.json: model\.layers: the run's training state \(parameters, buffers and the state of optimizer "adam"\) would be about 6\.9 GiB, over the 4\.0 GiB/,
    );
  });

  test("/dev/zero or a FIFO fed forever as the spec is refused at the limit, not read until memory runs out", async () => {
    const dir = tempDir();
    const zero = await nabla(["run", "/dev/zero"], dir);
    expect(zero.stderr).toBe(
      "nabla: /dev/zero: the spec file is larger than 1.0 MiB; specs are limited to 1.0 MiB (is this a results or data file?)\n",
    );
    expect(zero.code).toBe(1);
    const fifo = join(dir, "spec.json");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    const writer = spawn("sh", ["-c", `yes '{"name": "x", ' > '${fifo}'`], { stdio: "ignore" });
    kills.push(() => writer.kill("SIGKILL"));
    const piped = await nabla(["sweep", fifo], dir);
    expect(piped.stderr).toMatch(/^nabla: .*spec\.json: the spec file is larger than 1\.0 MiB; /);
    expect(piped.code).toBe(1);
  });
});

describe("parse errors of user input are one short line", () => {
  test("bad URLs and numbers in flags: a user error (exit 1) or a usage error (exit 2), never an internal one", async () => {
    const dir = tempDir();
    const spec = join(dir, "s.json");
    writeFileSync(
      spec,
      JSON.stringify({
        name: "s",
        data: { source: "synthetic", trainCount: 200, testCount: 50, validationSize: 50 },
      }),
    );
    const cases: [string[], number, string][] = [
      [
        ["sweep", spec, "--queue", "redis://:%zz@127.0.0.1:1"],
        1,
        'nabla: --queue: the password is not valid percent-encoding (write % as %25); expected redis://[:password@]host[:port][/db] or rediss://… for TLS, got "redis://:***@127.0.0.1:1"\n',
      ],
      [
        ["worker", "--queue", "redis://127.0.0.1:1", "--concurrency", "1e30"],
        2,
        'nabla: --concurrency: expected a positive integer, got "1e30"\n',
      ],
      [
        ["worker", "--queue", "redis://127.0.0.1:1", "--lock-seconds", "1e10"],
        2,
        'nabla: --lock-seconds: expected a number of seconds from 1 to 86400, got "1e10"\n',
      ],
      [
        ["sweep", spec, "--workers", "0x10"],
        2,
        'nabla: --workers: expected a positive integer, got "0x10"\n',
      ],
      [
        ["worker", "--queue", "redis://127.0.0.1:1", "extra"],
        2,
        'nabla: worker: expected no arguments, got "extra" (see nabla worker --help)\n',
      ],
    ];
    for (const [args, code, line] of cases) {
      const r = await nabla(args, dir);
      expect(r.stderr, args.join(" ")).toBe(line);
      expect(r.code, args.join(" ")).toBe(code);
    }
  });

  test("a message never echoes a huge input whole: a 900 kB field name is cut", async () => {
    const dir = tempDir();
    const spec = join(dir, "k.json");
    writeFileSync(spec, JSON.stringify({ name: "k", ["x".repeat(900_000)]: 1 }));
    const r = await nabla(["run", spec], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^nabla: .*k\.json: x+…\n$/);
    expect(r.stderr.length).toBeLessThan(2100);
  });
});
