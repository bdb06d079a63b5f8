import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { makeTarGz, withTempDir } from "../test/fixtures.js";
import { CifarDataError } from "./errors.js";
import { readTarGzEntries } from "./tar.js";

async function collect(archive: Buffer, wanted: string[]): Promise<Map<string, string>> {
  return withTempDir(async (dir) => {
    const path = join(dir, "a.tar.gz");
    await writeFile(path, archive);
    const got = new Map<string, string>();
    await readTarGzEntries(path, new Set(wanted), (name, data) => {
      got.set(name, data.toString("utf8"));
    });
    return got;
  });
}

const paxRecord = (key: string, value: string) => {
  // The length prefix counts bytes (including itself), not characters.
  const body = Buffer.byteLength(` ${key}=${value}\n`);
  let length = body + 1;
  while (String(length).length + body !== length) length++;
  return `${length} ${key}=${value}\n`;
};

describe("readTarGzEntries", () => {
  it("returns only wanted regular files, across block boundaries, skipping directories and others", async () => {
    const big = `${"x".repeat(70_000)}end`;
    const got = await collect(
      makeTarGz([
        { name: "d/", data: new Uint8Array(0), type: "5" },
        { name: "d/a.bin", data: Buffer.from(big) },
        { name: "d/skip.bin", data: Buffer.from("skip me") },
        { name: "./d/b.bin", data: Buffer.from("bee") },
        { name: "d/empty.bin", data: new Uint8Array(0) },
      ]),
      ["d/a.bin", "d/b.bin", "d/empty.bin", "d/never.bin"],
    );
    expect([...got.keys()]).toEqual(["d/a.bin", "d/b.bin", "d/empty.bin"]);
    expect(got.get("d/a.bin")).toBe(big);
    expect(got.get("d/b.bin")).toBe("bee");
  });

  it("honours GNU long names and pax path records (npm's tar writes pax)", async () => {
    const longName = `package/${"n".repeat(120)}.png`;
    const got = await collect(
      makeTarGz([
        { name: "././@LongLink", data: Buffer.from(`${longName}\0`), type: "L" },
        { name: "truncated-name", data: Buffer.from("long") },
        { name: "PaxHeader/x", data: Buffer.from(paxRecord("path", "package/é-pax.json")), type: "x" },
        { name: "short", data: Buffer.from("pax") },
      ]),
      [longName, "package/é-pax.json"],
    );
    expect(got.get(longName)).toBe("long");
    expect(got.get("package/é-pax.json")).toBe("pax");
  });

  it("a truncated archive or a corrupt header is a one-line error naming the archive", async () => {
    const full = makeTarGz([{ name: "a.bin", data: Buffer.alloc(5000, 7) }]);
    const { gunzipSync } = await import("node:zlib");
    const raw = gunzipSync(full);
    const cut = gzipSync(raw.subarray(0, 512 + 1000));
    await expect(collect(cut, ["a.bin"])).rejects.toThrow(
      /a\.tar\.gz: archive truncated inside entry a\.bin$/,
    );
    const badHeader = Buffer.from(raw);
    badHeader[0] ^= 0xff;
    await expect(collect(gzipSync(badHeader), ["a.bin"])).rejects.toThrow(/a\.tar\.gz: corrupt tar header/);
    await expect(collect(full.subarray(0, full.length - 30), ["a.bin"])).rejects.toThrow(CifarDataError);
    await expect(collect(Buffer.from("not gzip at all"), ["a.bin"])).rejects.toThrow(
      /unreadable \.tar\.gz archive/,
    );
  });
});
