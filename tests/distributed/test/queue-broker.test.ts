/**
 * The queue outlives its broker: Redis flushed, or killed -9 and restarted empty (no persistence), under a
 * running sweep. The coordinator queues the vanished jobs again from its specs, a worker whose lock vanished
 * delivers what it finished, and every member's results and checkpoint reach the coordinator's --out.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { CLI, hasRedisServer, type Proc, run, start, tempDir } from "./processes.js";
import { type RedisServer, startRedis } from "./redis.js";

const available = hasRedisServer();

const small = (name: string, lrs: number[], epochs = 2, trainCount = 1000) => ({
  name,
  model: { hiddenDims: [32] },
  epochs,
  batchSize: 32,
  data: { source: "synthetic", trainCount, testCount: 200, validationSize: 200 },
  grid: { lr: lrs },
});

/** A results file without its timings: what must be the same whichever process trained it. */
function withoutTimings(file: string): string {
  const {
    timings: _t,
    digest: _d,
    ...rest
  } = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  return JSON.stringify(rest);
}

const literal = (s: string) => s.replace(/[.=+]/g, "\\$&");

describe.skipIf(!available)("the queue survives its broker (real redis-server, kill -9, FLUSHALL)", () => {
  const procs: Proc[] = [];
  const servers: RedisServer[] = [];
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.stop("SIGKILL")));
    await Promise.all(servers.splice(0).map((r) => r.stop()));
  });
  const cli = (args: string[]) => {
    const proc = start(process.execPath, [CLI, ...args]);
    procs.push(proc);
    return proc;
  };
  const worker = (redis: RedisServer, queue: string) =>
    cli(["worker", "--queue", redis.url, "--queue-name", queue, "--lock-seconds", "3", "--concurrency", "1"]);
  const sweep = (redis: RedisServer, spec: string, queue: string, out: string) =>
    cli(["sweep", spec, "--queue", redis.url, "--queue-name", queue, "--out", out]);

  test("FLUSHALL with every job waiting: the coordinator queues them again and the sweep completes", async () => {
    const redis = await startRedis();
    servers.push(redis);
    const dir = tempDir();
    const spec = join(dir, "f.json");
    writeFileSync(spec, JSON.stringify(small("f", [0.01, 0.1, 0.5])));
    const coordinator = sweep(redis, spec, "flush", join(dir, "out"));
    await coordinator.line(/f-lr=0\.5: queued/);
    await redis.flushall();
    await coordinator.line(/vanished from the queue .*: queued again/);
    worker(redis, "flush");
    expect(await coordinator.exited, coordinator.output()).toBe(0);
    const out = coordinator.output();
    expect(out).not.toContain("disappeared");
    expect(out).toContain("sweep 3/3 finished (0 cached, 3 queued now)");
    expect(out).toMatch(/, 3 queued again after vanishing from the queue\n/);
  });

  test("kill -9 of Redis mid-job, restarted empty: the worker delivers what it finished, checkpoints reach --out", async () => {
    const redis = await startRedis();
    servers.push(redis);
    const dir = tempDir();
    const spec = join(dir, "k.json");
    // Long enough per member that Redis can be killed and restarted while the first one trains.
    writeFileSync(spec, JSON.stringify(small("k", [0.01, 0.1], 10, 4000)));
    const local = await run(process.execPath, [
      CLI,
      "sweep",
      spec,
      "--out",
      join(dir, "local"),
      "--workers",
      "1",
    ]);
    expect(local.code, local.output).toBe(0);

    const w = worker(redis, "kill");
    await w.line(/ on redis:/);
    const coordinator = sweep(redis, spec, "kill", join(dir, "out"));
    const started = await w.line(/: started \(job /);
    const victim = /worker: (\S+): started/.exec(started)?.[1] ?? "";
    await w.line(new RegExp(`${literal(victim)}: epoch 2/`));
    await redis.kill9();
    await redis.restart();
    expect(await coordinator.exited, coordinator.output()).toBe(0);
    await w.line(
      new RegExp(`${literal(victim)}: lost the job's lock .*: results delivered beside the queue`),
    );
    const out = coordinator.output();
    expect(out).toContain("sweep 2/2 finished (0 cached, 2 queued now)");
    expect(out).toMatch(/vanished from the queue .*: queued again/);
    // Trained once: the delivery beside the queue answered the coordinator, not a second run.
    expect(w.output().match(new RegExp(`${literal(victim)}: done in`, "g"))).toHaveLength(1);
    for (const lr of [0.01, 0.1]) {
      const name = `k-lr=${lr}`;
      expect(withoutTimings(join(dir, "out", `${name}.json`))).toBe(
        withoutTimings(join(dir, "local", `${name}.json`)),
      );
      expect(
        readFileSync(join(dir, "out", `${name}.safetensors`)).equals(
          readFileSync(join(dir, "local", `${name}.safetensors`)),
        ),
      ).toBe(true);
    }
    // The pair is whole: the checkpoint reproduces the recorded test accuracy on the coordinator's machine.
    const evaluated = await run(process.execPath, [CLI, "eval", join(dir, "out", `${victim}.json`)]);
    expect(evaluated.code, evaluated.output).toBe(0);
    expect(evaluated.output).toContain("identical to the recorded test accuracy");
  }, 300_000);

  test("Redis with an append-only file, killed -9 and restarted: nothing is queued again", async () => {
    const redis = await startRedis({ appendonly: true });
    servers.push(redis);
    const dir = tempDir();
    const spec = join(dir, "p.json");
    writeFileSync(spec, JSON.stringify(small("p", [0.01, 0.1], 6, 3000)));
    const w = worker(redis, "persist");
    await w.line(/ on redis:/);
    const coordinator = sweep(redis, spec, "persist", join(dir, "out"));
    await w.line(/: epoch 1\//);
    await redis.kill9();
    await redis.restart();
    expect(await coordinator.exited, coordinator.output()).toBe(0);
    expect(coordinator.output()).toContain("sweep 2/2 finished (0 cached, 2 queued now)");
    expect(coordinator.output()).not.toContain("queued again");
  }, 300_000);
});
