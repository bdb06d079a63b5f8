import { describe, expect, test } from "vitest";
import { parsePayload, parseProgress } from "./job.js";

const KEY = "0".repeat(64);

describe("queue jobs", () => {
  test("a payload is re-validated with the spec schema; its defaults are filled in", () => {
    const { spec } = parsePayload({ spec: { name: "a", epochs: 2 }, key: KEY, kernel: "k" }, KEY);
    expect(spec).toMatchObject({ name: "a", epochs: 2, lr: 0.1, batchSize: 128 });
    expect(() => parsePayload({ spec: { name: "a", mometum: 1 }, key: KEY, kernel: "k" }, KEY)).toThrow(
      `job ${KEY}: spec: mometum: unknown field`,
    );
    expect(() => parsePayload({ spec: { name: "a" }, key: KEY, kernel: "k" }, "other")).toThrow(
      `job other: key: expected the job id, got ${KEY}`,
    );
  });

  test("progress from the queue reaches the renderer only when it is one of the runner's events", () => {
    const epoch = {
      type: "epoch",
      epoch: 1,
      epochs: 2,
      trainLoss: 1,
      valAccuracy: 0.5,
      valLoss: 1,
      lr: 0.1,
      seconds: 1,
    };
    expect(parseProgress(epoch)).toEqual(epoch);
    expect(parseProgress({ ...epoch, trainLoss: "NaN" })).toBeUndefined();
    expect(parseProgress(42)).toBeUndefined();
  });
});
