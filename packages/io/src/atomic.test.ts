import { spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { tempPathFor, writeAllSync, writeFileAtomic, writeFileAtomicSync } from "./atomic.js";
import { parseTempName, removeStaleTemps, STALE_TEMP_MS } from "./stale.js";

const fresh = () => mkdtempSync(join(tmpdir(), "nabla-io-"));

describe("writeFileAtomic", () => {
  test("writes strings and bytes, replacing the target, leaving no temp file", async () => {
    const dir = fresh();
    const file = join(dir, "sub", "a.json");
    await writeFileAtomic(file, "one");
    await writeFileAtomic(file, "two");
    expect(readFileSync(file, "utf8")).toBe("two");
    writeFileAtomicSync(join(dir, "b.bin"), new Uint8Array([1, 2, 3]));
    expect([...readFileSync(join(dir, "b.bin"))]).toEqual([1, 2, 3]);
    expect(readdirSync(join(dir, "sub"))).toEqual(["a.json"]);
    expect(readdirSync(dir).sort()).toEqual(["b.bin", "sub"]);
  });

  test("a failed rename removes its temp file and keeps the old target", async () => {
    const dir = fresh();
    const target = join(dir, "t");
    // A non-empty folder at the target path makes the rename fail after the temp file was written.
    writeFileAtomicSync(join(target, "inside"), "x");
    await expect(writeFileAtomic(target, "new")).rejects.toThrow();
    expect(() => writeFileAtomicSync(target, "new")).toThrow();
    expect(readdirSync(dir)).toEqual(["t"]);
  });

  test("files over 2 GiB are written in pieces (one writeSync is capped at 2^31 - 1 bytes)", async () => {
    // tmpfs when there is one: the file lives in memory for a moment instead of wearing a disk.
    const dir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "nabla-io-big-"));
    // Untouched pages of a fresh buffer are not resident: this costs memory only for the file itself.
    const big = new Uint8Array(2 ** 31 + 16);
    big[big.length - 1] = 7;
    const tail = (file: string) => {
      const fd = openSync(file, "r");
      const out = Buffer.alloc(2);
      readSync(fd, out, 0, 2, big.length - 2);
      closeSync(fd);
      return [...out];
    };
    try {
      for (const write of [writeFileAtomicSync, writeFileAtomic]) {
        const file = join(dir, "big.safetensors");
        await write(file, big);
        expect(statSync(file).size).toBe(big.length);
        expect(tail(file)).toEqual([0, 7]);
        rmSync(file);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("writeAllSync resumes after each piece", () => {
    const file = join(fresh(), "pieces");
    const fd = openSync(file, "w");
    writeAllSync(fd, new Uint8Array([1, 2, 3, 4, 5, 6, 7]), 3);
    closeSync(fd);
    expect([...readFileSync(file)]).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  test("temp names round-trip through parseTempName", () => {
    const name = tempPathFor("/x/results.json").split("/").pop() as string;
    expect(parseTempName(name)).toEqual({ target: "results.json", pid: process.pid });
    expect(parseTempName("results.json")).toBeNull();
    expect(parseTempName(".results.json.tmp")).toBeNull();
  });
});

describe("stale temp files", () => {
  test("a writer killed with SIGKILL mid-write leaves a temp file that the next write removes", async () => {
    const dir = fresh();
    const script = `
      const fs = require("node:fs");
      const path = require("node:path");
      const temp = path.join(${JSON.stringify(dir)}, ".r.json." + process.pid + ".0badc0de.tmp");
      fs.writeFileSync(temp, "half of a file");
      process.stdout.write("written\\n");
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    expect(readdirSync(dir)).toHaveLength(1);
    await writeFileAtomic(join(dir, "r.json"), "{}");
    expect(readdirSync(dir)).toEqual(["r.json"]);
  });

  test("a live writer's fresh temp is kept; an old one, or a dead writer's, is removed; other files never", () => {
    const dir = fresh();
    const live = `.a.${process.pid}.00000001.tmp`;
    const old = `.b.${process.pid}.00000002.tmp`;
    writeFileSync(join(dir, live), "");
    writeFileSync(join(dir, old), "");
    writeFileSync(join(dir, ".hidden.tmp"), "");
    writeFileSync(join(dir, "keep.json"), "");
    const past = (Date.now() - STALE_TEMP_MS - 60_000) / 1000;
    utimesSync(join(dir, old), past, past);
    expect(removeStaleTemps(dir)).toEqual([old]);
    expect(readdirSync(dir).sort()).toEqual(
      [".a.", ".hidden.tmp", "keep.json"].map((n) => (n === ".a." ? live : n)).sort(),
    );
    expect(removeStaleTemps(join(dir, "missing"))).toEqual([]);
  });
});
