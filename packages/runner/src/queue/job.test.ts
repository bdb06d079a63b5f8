import { describe, expect, test } from "vitest";
import { parseDelivery } from "./delivery.js";
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

  test("a payload over a spec file's limit, or with a huge field, fails in one short line", () => {
    const big = { spec: { name: "a", description: "x".repeat(2_000_000) }, key: KEY, kernel: "k" };
    expect(() => parsePayload(big, KEY)).toThrow(
      /^job 0+: the payload is \d+ bytes; specs are limited to 1048576$/,
    );
    let message = "";
    try {
      parsePayload({ spec: { name: "a" }, key: KEY, kernel: "k", ["y".repeat(500_000)]: 1 }, KEY);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^job 0+: \(root\): Unrecognized key: "y+…/);
    expect(message.length).toBeLessThan(600);
  });

  test("a delivery is checked before its results are: a bare results object is an older worker's", () => {
    expect(parseDelivery({ schemaVersion: 3 }, KEY)).toEqual({
      results: { schemaVersion: 3 },
      worker: "(unknown)",
      checkpointOmitted: "the worker sends no checkpoints",
    });
    expect(() =>
      parseDelivery({ results: {}, worker: "w", checkpoint: { sha256: "no", bytes: 1 } }, KEY),
    ).toThrow(
      `job ${KEY}: the worker's delivery does not validate: checkpoint.sha256: expected a sha-256 in hex`,
    );
    expect(() =>
      parseDelivery({ results: {}, worker: "w", checkpoint: { sha256: KEY, bytes: 2 ** 40 } }, KEY),
    ).toThrow(/checkpoint\.bytes: /);
  });
});
