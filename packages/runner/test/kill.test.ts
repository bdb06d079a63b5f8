/**
 * Runs that survive, with real processes: the built CLI is killed (SIGKILL) after an epoch, mid-epoch, inside
 * a state write, inside the commit of a results/checkpoint pair and at random moments, or stopped with SIGINT;
 * run again, it resumes and writes results identical to an uninterrupted run's (timings aside) and the same
 * checkpoint. Exact crash points come from test/fixtures/rename-faults.mjs (every write ends in a rename).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Rng } from "@nabla/ndarray";
import { beforeAll, describe, expect, test } from "vitest";
import { sha256Hex } from "../src/checkpoint.js";
import { loadResults } from "../src/results.js";
import { tempDir } from "./helpers.js";

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const FAULTS = fileURLToPath(new URL("./fixtures/rename-faults.mjs", import.meta.url));

/** Four epochs of a few tenths of a second each: momentum, a schedule, dropout and augmentation all carry state. */
const SPEC = {
  name: "slow",
  model: { kind: "mlp", layers: [{ linear: 32 }, "relu", { dropout: 0.2 }, { linear: 10 }] },
  optimizer: { kind: "sgd", momentum: 0.9 },
  scheduler: { kind: "step", stepSize: 2, gamma: 0.5 },
  lr: 0.0002,
  batchSize: 50,
  epochs: 4,
  seed: 1,
  data: {
    source: "synthetic",
    trainCount: 6000,
    testCount: 300,
    validationSize: 300,
    seed: 4,
    augment: [{ randomCrop: { padding: 4 } }, "horizontalFlip"],
  },
};
/** Another version of the same experiment (same name, other cache key), to be replaced by SPEC. */
const OLD = { ...SPEC, lr: 0.0005, epochs: 1 };

interface Child {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  stderr: () => string;
}

function start(dir: string, spec: object = SPEC, fault?: object): Child {
  writeFileSync(join(dir, "spec.json"), JSON.stringify(spec));
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (fault === undefined) delete env.NABLA_TEST_RENAME_FAULT;
  else env.NABLA_TEST_RENAME_FAULT = JSON.stringify(fault);
  const child = spawn(process.execPath, ["--import", FAULTS, CLI, "run", "spec.json", "--out", "out"], {
    cwd: dir,
    env,
  });
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  child.stdout?.resume();
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>(
    (resolve) => child.on("close", (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, done, stderr: () => stderr };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function kill(c: Child): Promise<void> {
  c.child.kill("SIGKILL");
  await c.done;
}

/** Runs to the end (no fault) and returns the epoch it resumed after (0: it did not resume). */
async function finish(dir: string): Promise<number> {
  const r = await start(dir).done;
  expect(r.code, r.stderr).toBe(0);
  return Number(/resuming after epoch (\d+) of/.exec(r.stderr)?.[1] ?? 0);
}

let reference: { results: string; checkpoint: Buffer };

/** The results without timings and digest (which covers them), and the checkpoint's bytes. */
function outcome(dir: string) {
  const {
    timings: _t,
    digest: _d,
    ...rest
  } = JSON.parse(readFileSync(join(dir, "out", "slow.json"), "utf8"));
  return { results: JSON.stringify(rest), checkpoint: readFileSync(join(dir, "out", "slow.safetensors")) };
}

function expectLikeReference(dir: string): void {
  const got = outcome(dir);
  expect(got.results).toBe(reference.results);
  expect(got.checkpoint.equals(reference.checkpoint)).toBe(true);
  // Nothing else is left: no state, no checkpoint aside, no temp file.
  expect(readdirSync(join(dir, "out")).sort()).toEqual(["slow.json", "slow.safetensors"]);
}

const statePath = (dir: string) => join(dir, "out", ".slow.state.safetensors");

beforeAll(async () => {
  const dir = tempDir();
  expect(await finish(dir)).toBe(0);
  reference = outcome(dir);
});

describe("kill -9", () => {
  test("after epoch 1 (held right after its state is saved): the rerun resumes after epoch 1", async () => {
    const dir = tempDir();
    const c = start(dir, SPEC, { to: "\\.slow\\.state\\.safetensors$", when: "after", action: "pause" });
    await until(() => c.stderr().includes("test-fault: paused"), "the pause");
    await kill(c);
    expect(await finish(dir)).toBe(1);
    expectLikeReference(dir);
  });

  test("mid-epoch: the rerun resumes after the last completed epoch", async () => {
    const dir = tempDir();
    const c = start(dir);
    await until(() => existsSync(statePath(dir)), "the first state");
    // Into the next epoch's steps (an epoch takes a few tenths of a second).
    await new Promise((r) => setTimeout(r, 120));
    await kill(c);
    const after = await finish(dir);
    expect(after).toBeGreaterThanOrEqual(1);
    expect(after).toBeLessThan(SPEC.epochs);
    expectLikeReference(dir);
  });

  test.each([1, 2])(
    "inside state write %i (written, not yet renamed): the previous state is resumed",
    async (nth) => {
      const dir = tempDir();
      const c = start(dir, SPEC, {
        to: "\\.slow\\.state\\.safetensors$",
        nth,
        when: "before",
        action: "pause",
      });
      await until(() => c.stderr().includes("test-fault: paused"), "the pause");
      await kill(c);
      // The killed write's temp file is there, beside the previous state (none before the first write).
      const left = readdirSync(join(dir, "out"));
      expect(left.filter((f) => f.endsWith(".tmp"))).toHaveLength(1);
      expect(left.includes(".slow.state.safetensors")).toBe(nth > 1);
      expect(await finish(dir)).toBe(nth - 1);
      expectLikeReference(dir);
    },
  );

  test("at random moments, over and over, until a run gets through", async () => {
    const dir = tempDir();
    const rng = new Rng(2024);
    let kills = 0;
    for (;;) {
      const c = start(dir);
      // On a busy machine a start alone can outlast every wait: after six kills the run is let through.
      const wait = kills < 6 ? 300 + rng.below(2500) : Number.POSITIVE_INFINITY;
      const ended = await Promise.race([
        c.done,
        ...(Number.isFinite(wait) ? [new Promise((r) => setTimeout(r, wait))] : []),
      ]);
      if (ended !== undefined) {
        expect((ended as { code: number }).code).toBe(0);
        break;
      }
      await kill(c);
      kills++;
    }
    expect(kills).toBeGreaterThanOrEqual(2);
    expectLikeReference(dir);
  });

  test.each([
    [
      "before the new checkpoint lands aside",
      { from: "\\.tmp$", to: "/\\.slow\\.[0-9a-f]{16}\\.safetensors$", when: "before" },
    ],
    ["after the old checkpoint is moved aside", { from: "/slow\\.safetensors$", when: "after" }],
    ["after the results file is committed", { to: "/slow\\.json$", when: "after" }],
    ["after the new checkpoint is put in place", { to: "/slow\\.safetensors$", when: "after" }],
  ])("inside the commit of a new version's pair, %s: never another run's checkpoint", async (_, at) => {
    const dir = tempDir();
    expect((await start(dir, OLD).done).code).toBe(0);
    const r = await start(dir, SPEC, { ...at, action: "kill" }).done;
    expect(r.signal).toBe("SIGKILL");
    // Whichever results file is there names the checkpoint beside it, if there is one.
    const results = loadResults(join(dir, "out", "slow.json"));
    const checkpoint = join(dir, "out", "slow.safetensors");
    if (existsSync(checkpoint)) expect(sha256Hex(readFileSync(checkpoint))).toBe(results.checkpoint?.sha256);
    await finish(dir);
    expectLikeReference(dir);
  });
});

describe("Ctrl-C", () => {
  test("SIGINT mid-epoch stops the run within a second, keeps its state, and a rerun resumes", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "out"));
    const c = start(dir);
    await until(() => existsSync(statePath(dir)), "the first state");
    await new Promise((r) => setTimeout(r, 100));
    const sent = performance.now();
    c.child.kill("SIGINT");
    const r = await c.done;
    expect(performance.now() - sent).toBeLessThan(1500);
    expect(r.code).toBe(130);
    const kept =
      /the state after epoch (\d+) is kept in out\/\.slow\.state\.safetensors: run it again to resume/.exec(
        r.stderr,
      );
    expect(kept, r.stderr).not.toBeNull();
    expect(existsSync(statePath(dir))).toBe(true);
    expect(await finish(dir)).toBe(Number(kept?.[1]));
    expectLikeReference(dir);
  });
});
