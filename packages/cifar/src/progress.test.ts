import { describe, expect, it } from "vitest";
import { createStderrProgress } from "./progress.js";

function fakeStream(isTTY: boolean) {
  const chunks: string[] = [];
  const stream = { isTTY, write: (s: string) => chunks.push(s) > 0 } as unknown as NodeJS.WriteStream;
  return { stream, text: () => chunks.join("") };
}

describe("createStderrProgress", () => {
  it("writes plain lines when not a TTY, byte progress throttled to 10 % steps", () => {
    const { stream, text } = fakeStream(false);
    const report = createStderrProgress(stream);
    for (let done = 0; done <= 1_000_000; done += 10_000) {
      report({ phase: "download", message: "u", done, total: 1_000_000, unit: "bytes" });
    }
    report({ phase: "decode", message: "data_batch_1.png", done: 1, total: 6, unit: "sheets" });
    const lines = text().trimEnd().split("\n");
    expect(lines).toHaveLength(12);
    expect(text()).not.toContain("\r");
    expect(lines[10]).toBe("cifar-10 download: u 1.0/1.0 MB (100%)");
    expect(lines[11]).toBe("cifar-10 decode: data_batch_1.png [1/6 sheets]");
  });

  it("rewrites one line on a TTY", () => {
    const { stream, text } = fakeStream(true);
    const report = createStderrProgress(stream);
    report({ phase: "download", message: "u", done: 5, total: 10, unit: "bytes" });
    report({ phase: "download", message: "u", done: 10, total: 10, unit: "bytes" });
    report({ phase: "done", message: "ready" });
    expect(text()).toBe(
      "\rcifar-10 download: u 0.0/0.0 MB (50%)\x1b[K\rcifar-10 download: u 0.0/0.0 MB (100%)\x1b[K\ncifar-10 done: ready\n",
    );
  });
});

describe("verification lines", () => {
  it("non-TTY prints failures and the last file only", () => {
    const chunks: string[] = [];
    const stream = {
      isTTY: false,
      write: (s: string) => chunks.push(s) > 0,
    } as unknown as NodeJS.WriteStream;
    const report = createStderrProgress(stream);
    report({ phase: "verify", message: "a ok", done: 1, total: 3, unit: "files", ok: true });
    report({ phase: "verify", message: "b: missing", done: 2, total: 3, unit: "files", ok: false });
    report({ phase: "verify", message: "c ok", done: 3, total: 3, unit: "files", ok: true });
    expect(chunks.join("")).toBe(
      "cifar-10 verify: b: missing [2/3 files]\ncifar-10 verify: c ok [3/3 files]\n",
    );
  });
});
