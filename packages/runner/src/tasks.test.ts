import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { z } from "zod";
import { tempDir } from "../test/helpers.js";
import { loadTaskResults, parseTaskSpec, registerTask, runTask, taskKinds } from "./tasks.js";

function registerSquare(codeFile: string): { calls: number } {
  const counter = { calls: 0 };
  registerTask({
    kind: "square",
    schema: z.strictObject({ x: z.number().finite(), times: z.number().int().positive().default(1) }),
    run: ({ x, times }) => {
      counter.calls++;
      return { value: x * x * times };
    },
    code: [codeFile],
  });
  return counter;
}

describe("tasks", () => {
  test("cached under a key of config and code: same config and code reuse, either changed recomputes", async () => {
    const dir = tempDir();
    const code = join(dir, "square.js");
    writeFileSync(code, "// v1");
    const counter = registerSquare(code);
    const resultsDir = join(dir, "results");
    const spec = parseTaskSpec({ name: "sq", kind: "square", x: 3 });
    expect(spec.config).toEqual({ x: 3, times: 1 });
    const first = await runTask(spec, { resultsDir });
    expect(first).toMatchObject({ cached: false, results: { result: { value: 9 }, kind: "square" } });
    expect(loadTaskResults(first.file)).toEqual(first.results);
    expect((await runTask(spec, { resultsDir })).cached).toBe(true);
    expect((await runTask(parseTaskSpec({ name: "sq", kind: "square", x: 4 }), { resultsDir })).cached).toBe(
      false,
    );
    writeFileSync(code, "// v2");
    const afterEdit = await runTask(parseTaskSpec({ name: "sq", kind: "square", x: 4 }), { resultsDir });
    expect(afterEdit.cached).toBe(false);
    expect(JSON.parse(readFileSync(afterEdit.file, "utf8")).result).toEqual({ value: 16 });
    expect((await runTask(spec, { resultsDir, force: true })).cached).toBe(false);
    expect(counter.calls).toBe(4);
  });

  test("spec errors name the source and the field; an unknown kind lists the registered ones", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "c.js"), "");
    registerSquare(join(dir, "c.js"));
    expect(() => parseTaskSpec({ name: "sq", kind: "square", x: "3" }, "f.json")).toThrow(
      'f.json: x: expected a number, got "3"',
    );
    expect(() => parseTaskSpec({ name: "sq", kind: "square", x: 1, y: 2 }, "f.json")).toThrow(
      "f.json: y: unknown field",
    );
    expect(() => parseTaskSpec({ name: "bad name", kind: "square", x: 1 }, "f.json")).toThrow(
      "f.json: name:",
    );
    expect(taskKinds()).toContain("square");
    expect(() => parseTaskSpec({ name: "t", kind: "nope" }, "f.json")).toThrow(
      /^f\.json: kind: expected a registered task \(.*"square".*\), got "nope"$/,
    );
  });

  test("a missing code file is a user error naming it", async () => {
    const dir = tempDir();
    registerSquare(join(dir, "never-built.js"));
    await expect(
      runTask(parseTaskSpec({ name: "sq", kind: "square", x: 1 }), { resultsDir: dir }),
    ).rejects.toThrow(`task code file ${join(dir, "never-built.js")} is missing`);
  });
});
