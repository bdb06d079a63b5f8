import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CLI, freePort, type Proc, REMOTE_CACHE, ROOT, run, start, TURBO, tempDir } from "./processes.js";

/**
 * A tiny report workspace (npm workspaces, so turbo needs no install): its `experiments` task runs the built
 * `nabla experiments` on synthetic data, with the repository's turbo settings for that task.
 */
function writeFixture(dir: string): void {
  const repoTurbo = JSON.parse(readFileSync(join(ROOT, "turbo.json"), "utf8"));
  mkdirSync(join(dir, "report", "experiments"), { recursive: true });
  const json = (file: string, value: unknown) =>
    writeFileSync(join(dir, file), `${JSON.stringify(value, null, 2)}\n`);
  json("package.json", {
    name: "fixture",
    private: true,
    packageManager: "npm@10.0.0",
    workspaces: ["report"],
  });
  json("package-lock.json", {
    name: "fixture",
    lockfileVersion: 3,
    requires: true,
    packages: {
      "": { name: "fixture", workspaces: ["report"] },
      report: { name: "fixture-report" },
      "node_modules/fixture-report": { resolved: "report", link: true },
    },
  });
  json("turbo.json", {
    remoteCache: repoTurbo.remoteCache,
    futureFlags: repoTurbo.futureFlags,
    tasks: { experiments: { ...repoTurbo.tasks.experiments, dependsOn: [] } },
  });
  json("report/package.json", {
    name: "fixture-report",
    private: true,
    scripts: { experiments: `node ${CLI} experiments experiments --out results` },
  });
  json("report/experiments/sweep.json", {
    name: "rc",
    model: { hiddenDims: [16] },
    epochs: 2,
    batchSize: 64,
    data: { source: "synthetic", trainCount: 1000, testCount: 200, validationSize: 200 },
    grid: { lr: [0.01, 0.1] },
  });
}

const files = (dir: string) => readdirSync(join(dir, "report", "results")).sort();

describe("results through a self-hosted turborepo-remote-cache (signed artifacts)", () => {
  let server: Proc;
  let storage: string;
  let env: NodeJS.ProcessEnv;
  const team = "nabla";

  beforeAll(async () => {
    const port = await freePort();
    storage = tempDir("nabla-cache-store-");
    const token = randomBytes(16).toString("hex");
    server = start(process.execPath, [REMOTE_CACHE], {
      env: {
        PORT: String(port),
        HOST: "127.0.0.1",
        STORAGE_PROVIDER: "local",
        STORAGE_PATH: storage,
        STORAGE_PATH_USE_TMP_FOLDER: "false",
        TURBO_TOKEN: token,
        // Any value: the server stores and serves signature tags only when this is set.
        TURBO_REMOTE_CACHE_SIGNATURE_KEY: "server-stores-tags",
      },
    });
    await server.line(/Server listening at/);
    const kernel = await run(process.execPath, [join(ROOT, "scripts", "turbo-with-kernel.mjs"), "--print"]);
    expect(kernel.code, kernel.output).toBe(0);
    env = {
      TURBO_TELEMETRY_DISABLED: "1",
      TURBO_API: `http://127.0.0.1:${port}`,
      TURBO_TOKEN: token,
      TURBO_TEAM: team,
      TURBO_REMOTE_CACHE_SIGNATURE_KEY: randomBytes(32).toString("hex"),
      NABLA_GEMM_KERNEL: kernel.output.trim(),
    };
  });
  afterAll(async () => {
    await server?.stop();
  });

  const experiments = (dir: string, extra: NodeJS.ProcessEnv = {}) =>
    run(process.execPath, [TURBO, "run", "experiments"], { cwd: dir, env: { ...env, ...extra } });

  test("clone A trains and uploads; clone B gets remote hits, trains nothing, byte-identical results; a tampered artifact is refused", async () => {
    const a = tempDir();
    writeFixture(a);
    const first = await experiments(a);
    expect(first.code, first.output).toBe(0);
    expect(first.output).toContain("cache miss, executing");
    expect(first.output).toContain("2 results (2 computed, 0 cached)");
    const stored = readdirSync(join(storage, team));
    const artifact = stored.find((f) => !f.endsWith(".tag")) ?? "";
    expect(stored.sort()).toEqual([artifact, `${artifact}.tag`]);

    const b = tempDir();
    writeFixture(b);
    const second = await experiments(b);
    expect(second.code, second.output).toBe(0);
    expect(second.output).toContain(`cache hit, replaying logs ${artifact}`);
    expect(second.output).toContain("FULL TURBO");
    expect(files(b)).toEqual(files(a));
    for (const f of files(a))
      expect(
        readFileSync(join(b, "report", "results", f)).equals(readFileSync(join(a, "report", "results", f))),
        f,
      ).toBe(true);

    // Another kernel is another hash: a machine whose GEMM rounds differently never takes these results.
    const other = tempDir();
    writeFixture(other);
    const scalar = await run(process.execPath, [join(ROOT, "scripts", "turbo-with-kernel.mjs"), "--print"], {
      env: { NABLA_GEMM_ISA: "scalar" },
    });
    const third = await experiments(other, {
      NABLA_GEMM_ISA: "scalar",
      NABLA_GEMM_KERNEL: scalar.output.trim(),
    });
    expect(third.code, third.output).toBe(0);
    expect(third.output).toContain("cache miss, executing");
    expect(third.output).not.toContain(artifact);

    // Tampering: a well-formed artifact of another hash put in place of A's keeps A's tag; then flipped bytes.
    const others = readdirSync(join(storage, team)).filter((f) => !f.endsWith(".tag") && f !== artifact);
    expect(others).toHaveLength(1);
    copyFileSync(join(storage, team, others[0]), join(storage, team, artifact));
    const c = tempDir();
    writeFixture(c);
    const refused = await experiments(c);
    expect(refused.code, refused.output).toBe(0);
    expect(refused.output).toContain(`cache miss, executing ${artifact}`);
    expect(refused.output).toContain("2 results (2 computed, 0 cached)");
    const results = (dir: string, f: string) =>
      JSON.parse(readFileSync(join(dir, "report", "results", f), "utf8"));
    for (const f of files(a).filter((n) => n.endsWith(".json")))
      expect(JSON.stringify(results(c, f).metrics)).toBe(JSON.stringify(results(a, f).metrics));

    const bytes = readFileSync(join(storage, team, artifact));
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(join(storage, team, artifact), bytes);
    const d = tempDir();
    writeFixture(d);
    const flipped = await experiments(d);
    expect(flipped.code, flipped.output).toBe(0);
    expect(flipped.output).toContain(`cache miss, executing ${artifact}`);
  }, 300_000);
});
