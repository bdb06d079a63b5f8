import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { InputTooLargeError, readFileBounded } from "./read.js";

const fresh = () => mkdtempSync(join(tmpdir(), "nabla-io-read-"));
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

/** A FIFO at `path` whose writer sends `bytes` bytes of "x" once, or (bytes undefined) writes forever. */
function fifo(path: string, bytes?: number): void {
  expect(spawnSync("mkfifo", [path]).status).toBe(0);
  const script =
    bytes === undefined
      ? `const fs = require("node:fs"); const fd = fs.openSync(${JSON.stringify(path)}, "w"); const b = Buffer.alloc(65536, 120); for (;;) fs.writeSync(fd, b);`
      : `require("node:fs").writeFileSync(${JSON.stringify(path)}, "x".repeat(${bytes}));`;
  children.push(spawn(process.execPath, ["-e", script], { stdio: "ignore" }));
}

describe("readFileBounded", () => {
  test("a file at the limit is read whole; one byte more is refused with its size, unread", () => {
    const dir = fresh();
    const file = join(dir, "spec.json");
    writeFileSync(file, "x".repeat(1000));
    expect(readFileBounded(file, 1000, "spec file").toString()).toBe("x".repeat(1000));
    expect(() => readFileBounded(file, 999, "spec file")).toThrow(
      `${file}: the spec file is 1.0 KiB, over the limit of 1.0 KiB`,
    );
    expect(() => readFileBounded(file, 999)).toThrow(InputTooLargeError);
    writeFileSync(file, "");
    expect(readFileBounded(file, 10).length).toBe(0);
  });

  test("/dev/zero and a FIFO fed forever are refused after the limit, not read until memory runs out", () => {
    const started = performance.now();
    expect(() => readFileBounded("/dev/zero", 1 << 20, "checkpoint")).toThrow(
      "/dev/zero: the checkpoint is larger than the limit of 1.0 MiB",
    );
    const endless = join(fresh(), "endless");
    fifo(endless);
    expect(() => readFileBounded(endless, 4 << 20, "spec file")).toThrow(
      `${endless}: the spec file is larger than the limit of 4.0 MiB`,
    );
    expect(performance.now() - started).toBeLessThan(30_000);
  });

  test("a FIFO that ends (bash's <(…)) is read whole, in several reads; file-system errors keep their code", () => {
    const dir = fresh();
    const piped = join(dir, "piped");
    fifo(piped, 300_000);
    expect(readFileBounded(piped, 1 << 20).toString()).toBe("x".repeat(300_000));
    expect(() => readFileBounded(join(dir, "missing"), 10)).toThrow(
      expect.objectContaining({ code: "ENOENT" }),
    );
    expect(() => readFileBounded(dir, 10)).toThrow(expect.objectContaining({ code: "EISDIR" }));
  });
});
