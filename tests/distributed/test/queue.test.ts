import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CLI, hasRedisServer, type Proc, run, start, tempDir } from "./processes.js";
import { type RedisServer, startRedis } from "./redis.js";

const available = hasRedisServer();
if (!available) console.log("queue tests skipped: redis-server is not installed (bash .ci/run installs it)");

const LRS = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3];
const names = LRS.map((lr) => `six-lr=${lr}`);
/** Six members of a few seconds each: long enough that a worker can be killed in the middle of one. */
const SWEEP = {
  name: "six",
  model: { hiddenDims: [64] },
  epochs: 8,
  batchSize: 32,
  data: { source: "synthetic", trainCount: 6000, testCount: 500, validationSize: 500 },
  grid: { lr: LRS },
};

/** A results file without its timings: what must be the same whichever machine or process trained it. */
function withoutTimings(file: string): string {
  const {
    timings: _timings,
    digest: _digest,
    ...rest
  } = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  return JSON.stringify(rest);
}

describe.skipIf(!available)("sweeps on a BullMQ queue (real redis-server with a password)", () => {
  let redis: RedisServer;
  const procs: Proc[] = [];
  const worker = (queueName: string, extra: string[] = []) => {
    const proc = start(process.execPath, [
      CLI,
      "worker",
      "--queue",
      redis.url,
      "--queue-name",
      queueName,
      "--lock-seconds",
      "3",
      ...extra,
    ]);
    procs.push(proc);
    return proc;
  };
  const queueOf = (name: string) =>
    new Queue(name, { connection: { host: "127.0.0.1", port: redis.port, password: redis.password } });

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop("SIGKILL")));
    await redis?.stop();
  });

  test("two workers, one killed -9 mid-job: every member completes once, metrics equal a local sweep", async () => {
    const dir = tempDir();
    const spec = join(dir, "six.json");
    writeFileSync(spec, JSON.stringify(SWEEP));
    const local = await run(process.execPath, [
      CLI,
      "sweep",
      spec,
      "--out",
      join(dir, "local"),
      "--workers",
      "2",
    ]);
    expect(local.code, local.output).toBe(0);

    const a = worker("six");
    const b = worker("six");
    await Promise.all([a.line(/ on redis:\/\/:\*\*\*@/), b.line(/ on redis:\/\/:\*\*\*@/)]);
    const coordinator = start(process.execPath, [
      CLI,
      "sweep",
      spec,
      "--queue",
      redis.url,
      "--queue-name",
      "six",
      "--out",
      join(dir, "queued"),
    ]);
    procs.push(coordinator);
    // A's first job, once it has trained three epochs of it: then A dies without a word to anyone.
    const started = await a.line(/: started \(job /);
    const victim = /worker: (\S+): started/.exec(started)?.[1] ?? "";
    await a.line(new RegExp(`${victim.replace(/[.=]/g, "\\$&")}: epoch 3/`));
    a.child.kill("SIGKILL");
    expect(await coordinator.exited, coordinator.output()).toBe(0);
    const out = coordinator.output();
    expect(out).toContain("sweep 6/6 finished (0 cached, 6 queued now)");
    expect(out).not.toContain("password");
    expect(out).not.toContain(redis.password);
    // B took the victim over once A's lock expired (stalled-job recovery), from the state A left after an
    // epoch it finished rather than from epoch 1, and still gave the metrics of an uninterrupted run (below).
    await b.line(
      new RegExp(`${victim.replace(/[.=]/g, "\\$&")}: started .*, from the state another worker left`),
    );
    await b.line(new RegExp(`${victim.replace(/[.=]/g, "\\$&")}: resuming after epoch [2-7] of 8`));
    await b.line(new RegExp(`${victim.replace(/[.=]/g, "\\$&")}: done in`));
    for (const name of names) {
      // Each member written once by the coordinator, with the metrics of the local run, byte for byte.
      expect(out.split(`-> ${join(dir, "queued", `${name}.json`)}`).length - 1, name).toBe(1);
      expect(withoutTimings(join(dir, "queued", `${name}.json`))).toBe(
        withoutTimings(join(dir, "local", `${name}.json`)),
      );
      // The checkpoint travelled with the results: the coordinator's pair is the local run's, byte for byte.
      const checkpoint = (folder: string) => readFileSync(join(dir, folder, `${name}.safetensors`));
      expect(checkpoint("queued").equals(checkpoint("local")), name).toBe(true);
    }
    const queue = queueOf("six");
    try {
      expect(await queue.getJobCounts("completed", "failed", "waiting", "active")).toEqual({
        completed: 6,
        failed: 0,
        waiting: 0,
        active: 0,
      });
      // Enqueuing the same sweep again (into an empty results folder) adds no job: the ids are the cache keys.
      const again = await run(process.execPath, [
        CLI,
        "sweep",
        spec,
        "--queue",
        redis.url,
        "--queue-name",
        "six",
        "--out",
        join(dir, "again"),
      ]);
      expect(again.code, again.output).toBe(0);
      expect(again.output).toContain("sweep 6/6 finished (0 cached, 0 queued now)");
      expect(again.output.match(/already completed on the queue/g)).toHaveLength(6);
      expect((await queue.getJobCounts("completed")).completed).toBe(6);
      for (const name of names)
        expect(withoutTimings(join(dir, "again", `${name}.json`))).toBe(
          withoutTimings(join(dir, "local", `${name}.json`)),
        );
    } finally {
      await queue.close();
    }
  }, 300_000);
});
