import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { ensureOutputDir } from "./dir.js";

describe("ensureOutputDir", () => {
  const root = mkdtempSync(join(tmpdir(), "nabla-io-dir-"));

  test("creates a missing folder and leaves no probe behind", () => {
    const dir = join(root, "a", "b");
    ensureOutputDir(dir);
    expect(existsSync(dir)).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
    ensureOutputDir(dir);
  });

  test("a file, a path under a file and a read-only mount fail with one line naming the folder", () => {
    const file = join(root, "f");
    writeFileSync(file, "");
    expect(() => ensureOutputDir(file, "results folder")).toThrow(
      `${file}: expected a results folder, found a file`,
    );
    expect(() => ensureOutputDir(join(file, "out"))).toThrow(
      `${join(file, "out")}: cannot create the output folder: a parent is a file`,
    );
    // /proc/self is a folder on a pseudo filesystem that takes no new files, even for root.
    expect(() => ensureOutputDir("/proc/self")).toThrow(
      /^\/proc\/self: the output folder is not writable \(E[A-Z]+\)$/,
    );
  });
});
