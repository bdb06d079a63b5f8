import { spawnSync } from "node:child_process";
import { readdir, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeFixtureSet, makeMirrorTarball, withTempDir } from "../test/fixtures.js";
import { fetchCifar10 } from "./acquire.js";
import { CifarDataError } from "./errors.js";
import { acquireLock } from "./lock.js";
import { silentProgress } from "./progress.js";

/** The pid of a process that has exited (so it is certainly not running now). */
function deadPid(): number {
  const result = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
  return Number(result.stdout.toString());
}

describe("lock file", () => {
  it("is exclusive, released, and a stale lock (dead pid, too old, garbage) is taken over", async () => {
    await withTempDir(async (dir) => {
      const lock = join(dir, ".fetch.lock");
      const release = await acquireLock(lock);
      await expect(acquireLock(lock, { waitMs: 150, pollMs: 20 })).rejects.toThrow(CifarDataError);
      await release();
      expect(await readdir(dir)).toEqual([]);

      await writeFile(lock, JSON.stringify({ pid: deadPid(), host: hostname(), time: Date.now() }));
      await (await acquireLock(lock, { waitMs: 100 }))();

      await writeFile(
        lock,
        JSON.stringify({ pid: process.ppid, host: "elsewhere", time: Date.now() - 10_000 }),
      );
      await (await acquireLock(lock, { waitMs: 100, staleMs: 5_000 }))();

      await writeFile(lock, "{ half-writ");
      const old = new Date(Date.now() - 60_000);
      const { utimes } = await import("node:fs/promises");
      await utimes(lock, old, old);
      await (await acquireLock(lock, { waitMs: 100 }))();
    });
  });

  it("a live holder makes others wait; the error after the wait names the lock file and holder", async () => {
    await withTempDir(async (dir) => {
      const lock = join(dir, ".fetch.lock");
      await writeFile(lock, JSON.stringify({ pid: process.ppid, host: hostname(), time: Date.now() }));
      const waits: string[] = [];
      await expect(
        acquireLock(lock, { waitMs: 200, pollMs: 20, onWait: (h) => waits.push(h) }),
      ).rejects.toThrow(
        `${lock}: locked by pid ${process.ppid} on ${hostname()} for over 0 s; remove the file if no fetch is running`,
      );
      expect(waits).toEqual([`pid ${process.ppid} on ${hostname()}`]);
    });
  });

  it("two concurrent fetches into one folder: one converts, the other waits and finds the verified cache", async () => {
    await withTempDir(async (root) => {
      const set = makeFixtureSet();
      const mirror = join(root, "mirror.tgz");
      await writeFile(mirror, makeMirrorTarball(set));
      const options = {
        onProgress: silentProgress,
        dataDir: join(root, "cache"),
        manifest: set.manifest,
        sources: ["mirror"] as const,
        mirrorTarball: mirror,
        lock: { pollMs: 20 },
      };
      const reports = await Promise.all([fetchCifar10(options), fetchCifar10(options)]);
      expect(reports.map((r) => r.source).sort()).toEqual(["cache", "mirror"]);
      expect((await readdir(join(root, "cache"))).sort()).toEqual(
        [...set.files.keys(), "batches.meta.txt"].sort(),
      );
    });
  });
});
