import { writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { tempDir } from "../test/helpers.js";
import { ResultsError } from "./errors.js";
import { formatJson, loadResults } from "./results.js";

describe("formatJson", () => {
  test("round-trips any JSON value and keeps scalar arrays on one line", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(JSON.parse(formatJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 200 },
    );
    expect(formatJson({ a: [1, 2.5, null], b: { c: "x" }, d: [] })).toBe(
      '{\n  "a": [1, 2.5, null],\n  "b": {\n    "c": "x"\n  },\n  "d": []\n}',
    );
  });
});

describe("loadResults", () => {
  test("names the file and the first bad field", () => {
    const dir = tempDir();
    const missing = join(dir, "missing.json");
    expect(() => loadResults(missing)).toThrow(new ResultsError(`${missing}: cannot read results (ENOENT)`));
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "{");
    expect(() => loadResults(bad)).toThrow(/bad\.json: not valid JSON/);
    writeFileSync(bad, JSON.stringify({ schemaVersion: 0 }));
    expect(() => loadResults(bad)).toThrow(
      `${bad}: schemaVersion: Invalid input: expected 3 (results schema version 3)`,
    );
  });
});
