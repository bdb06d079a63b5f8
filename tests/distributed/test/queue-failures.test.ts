import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Queue, QueueEvents } from "bullmq";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CLI, hasRedisServer, type Proc, run, start, tempDir } from "./processes.js";
import { type RedisServer, startRedis } from "./redis.js";

const available = hasRedisServer();

const SWEEP = {
  name: "f",
  model: { hiddenDims: [16] },
  epochs: 2,
  batchSize: 64,
  data: { source: "synthetic", trainCount: 1000, testCount: 200, validationSize: 200 },
  grid: { lr: [0.01, 0.1, 0.5] },
};
const KEY = "ab".repeat(32);

describe.skipIf(!available)("queue failures: hostile jobs, a failing member, Ctrl-C", () => {
  let redis: RedisServer;
  const procs: Proc[] = [];
  const connection = () => ({ host: "127.0.0.1", port: redis.port, password: redis.password });
  const worker = (queueName: string, extra: string[] = []) => {
    const proc = start(process.execPath, [
      CLI,
      "worker",
      "--queue",
      redis.url,
      "--queue-name",
      queueName,
      ...extra,
    ]);
    procs.push(proc);
    return proc;
  };
  const sweep = (spec: string, queueName: string, out: string) =>
    start(process.execPath, [
      CLI,
      "sweep",
      spec,
      "--queue",
      redis.url,
      "--queue-name",
      queueName,
      "--out",
      out,
    ]);

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop("SIGKILL")));
    await redis?.stop();
  });

  test("hostile payloads fail unrun with the field named; the worker goes on", async () => {
    const w = worker("hostile");
    await w.line(/ on redis:/);
    const queue = new Queue("hostile", { connection: connection() });
    const events = new QueueEvents("hostile", { connection: connection() });
    try {
      await events.waitUntilReady();
      const good = { name: "ok", epochs: 1, data: { source: "synthetic", trainCount: 200, testCount: 50 } };
      const hostile: [unknown, RegExp][] = [
        [
          { spec: good, key: KEY, kernel: "x", code: "process.exit(1)" },
          /\(root\): Unrecognized key: "code"/,
        ],
        [
          { spec: { ...good, name: "../../etc/passwd" }, key: KEY, kernel: "x" },
          /spec: name: expected a file-name-safe/,
        ],
        [{ spec: { ...good, epochs: "forever" }, key: KEY, kernel: "x" }, /spec: epochs: /],
        [
          { spec: { ...good, data: { ...good.data, dir: "/etc" } }, key: KEY, kernel: "x" },
          /spec\.data\.dir: a worker reads its own data/,
        ],
        [{ spec: good, key: "cd".repeat(32), kernel: "x" }, /key: expected the job id/],
        ["rm -rf /", /\(root\): /],
      ];
      for (const [i, [data, reason]] of hostile.entries()) {
        const id = i === 4 ? KEY : `${KEY.slice(0, 62)}${String(i).padStart(2, "0")}`;
        const payload =
          data !== null && typeof data === "object" && "key" in data && i !== 4 ? { ...data, key: id } : data;
        const job = await queue.add("hostile", payload, { jobId: id });
        await expect(job.waitUntilFinished(events, 60_000)).rejects.toThrow(reason);
      }
      expect(w.child.exitCode).toBeNull();
      expect(w.output()).toMatch(/rejected job .*Unrecognized key: "code"/);
    } finally {
      await events.close();
      await queue.close();
    }
  });

  test("a failing member is reported with its error and blocks nothing; a rerun retries it", async () => {
    const dir = tempDir();
    const spec = join(dir, "f.json");
    writeFileSync(spec, JSON.stringify(SWEEP));
    // The worker cannot write this member's results (a folder in the way): a real failure on the worker only.
    const cache = join(dir, "worker-cache");
    mkdirSync(join(cache, "f-lr=0.1.json"), { recursive: true });
    const w = worker("fail", ["--cache-dir", cache]);
    await w.line(/ on redis:/);
    const first = sweep(spec, "fail", join(dir, "out"));
    expect(await first.exited, first.output()).toBe(1);
    expect(first.output()).toMatch(
      /nabla: f-lr=0\.1 failed: .*f-lr=0\.1\.json: cannot write results \(EISDIR\)/,
    );
    expect(first.output()).toContain("sweep 2/3 finished (0 cached, 3 queued now) in");
    // The finished members' checkpoints travel with their results to the coordinator's --out.
    expect(readdirSync(join(dir, "out")).sort()).toEqual([
      "f-lr=0.01.json",
      "f-lr=0.01.safetensors",
      "f-lr=0.5.json",
      "f-lr=0.5.safetensors",
    ]);

    rmSync(join(cache, "f-lr=0.1.json"), { recursive: true });
    const second = await run(process.execPath, [
      CLI,
      "sweep",
      spec,
      "--queue",
      redis.url,
      "--queue-name",
      "fail",
      "--out",
      join(dir, "out"),
    ]);
    expect(second.code, second.output).toBe(0);
    expect(second.output).toContain("sweep 3/3 finished (2 cached, 1 queued now)");
  });

  test("Ctrl-C on the coordinator takes unstarted jobs off the queue; a rerun finishes them", async () => {
    const dir = tempDir();
    const spec = join(dir, "f.json");
    writeFileSync(spec, JSON.stringify({ ...SWEEP, name: "c" }));
    const coordinator = sweep(spec, "ctrlc", join(dir, "out"));
    await coordinator.line(/c-lr=0\.5: queued/);
    coordinator.child.kill("SIGINT");
    expect(await coordinator.exited, coordinator.output()).toBe(130);
    expect(coordinator.output()).toContain("sweep 0/3 finished (0 cached, 3 queued now)");
    const queue = new Queue("ctrlc", { connection: connection() });
    try {
      expect(await queue.getJobCounts("waiting", "active", "completed")).toEqual({
        waiting: 0,
        active: 0,
        completed: 0,
      });
    } finally {
      await queue.close();
    }
    // The rerun finds a consistent queue: it adds the three again and a worker finishes them.
    worker("ctrlc");
    const rerun = await run(process.execPath, [
      CLI,
      "sweep",
      spec,
      "--queue",
      redis.url,
      "--queue-name",
      "ctrlc",
      "--out",
      join(dir, "out"),
    ]);
    expect(rerun.code, rerun.output).toBe(0);
    expect(rerun.output).toContain("sweep 3/3 finished (0 cached, 3 queued now)");
  });
});
