import { Writable } from "node:stream";
import { describe, expect, test } from "vitest";
import { createProgressRenderer } from "./progress.js";
import type { ProgressEvent } from "./train.js";

function sink(isTTY: boolean) {
  let text = "";
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += chunk;
      done();
    },
  }) as Writable & { isTTY?: boolean; columns?: number };
  stream.isTTY = isTTY;
  stream.columns = 120;
  return { stream, text: () => text };
}

const step = (s: number): ProgressEvent => ({
  type: "step",
  name: "q3",
  epoch: 2,
  epochs: 10,
  step: s,
  stepsPerEpoch: 351,
  loss: 1.5,
  samples: s * 128,
  epochElapsedSeconds: s / 10,
});
const epoch: ProgressEvent = {
  type: "epoch",
  name: "q3",
  epoch: 2,
  epochs: 10,
  trainLoss: 1.23456,
  valAccuracy: 0.4567,
  valLoss: 1.5,
  lr: 0.1,
  seconds: 35.1,
};

describe("progress", () => {
  test("plain lines when not a terminal: no bars, no escape codes", () => {
    const out = sink(false);
    const r = createProgressRenderer(out.stream);
    r.listener({ type: "data", name: "q3", message: "cifar-10 verify: a ok", done: 1, total: 2 });
    r.listener({
      type: "data",
      name: "q3",
      message: "cifar-10 verify: all files verified",
      done: 2,
      total: 2,
    });
    r.listener(step(100));
    r.listener(epoch);
    r.clear();
    expect(out.text()).toBe(
      "q3: cifar-10 verify: all files verified\n" +
        "q3: epoch 2/10  train loss 1.2346  val acc 45.67%  val loss 1.5000  lr 0.1  35.1 s\n",
    );
  });

  test("a long epoch logs where it is every 30 s without a terminal (batches, samples/s, ETA)", () => {
    const out = sink(false);
    const r = createProgressRenderer(out.stream);
    r.listener(step(100)); // 10 s into the epoch: nothing yet
    r.listener(step(310)); // 31 s
    r.listener(step(320)); // 32 s: same period, nothing
    r.listener(step(351)); // the epoch's last batch: the epoch line follows instead
    r.listener(epoch);
    r.clear();
    expect(out.text()).toBe(
      "q3: epoch 2/10  310/351 batches  loss 1.5000  1280 samples/s  ETA 0:04\n" +
        "q3: epoch 2/10  train loss 1.2346  val acc 45.67%  val loss 1.5000  lr 0.1  35.1 s\n",
    );
  });

  test("a live bar with batches, loss and ETA on a terminal", () => {
    const out = sink(true);
    const r = createProgressRenderer(out.stream);
    r.listener(step(351 - 251)); // 100 steps in 10 s => 251 left at 0.1 s each: 25 s
    expect(out.text()).toContain("q3 epoch 2/10 ");
    expect(out.text()).toContain(" 100/351 batches  loss 1.5000  1280 samples/s  ETA 0:25");
    r.listener(epoch);
    // The permanent line is printed after erasing the bar (cursor up + clear), then the bar comes back.
    expect(out.text()).toContain("\x1b[1A\r\x1b[Jq3: epoch 2/10  train loss");
    r.clear();
    expect(out.text().endsWith("\x1b[1A\r\x1b[J")).toBe(true);
  });

  test("one bar per running experiment in a sweep; a finished one leaves the block", () => {
    const out = sink(true);
    const r = createProgressRenderer(out.stream);
    r.listener(step(10));
    r.listener({ ...step(20), name: "q4" } as ProgressEvent);
    r.listener({
      type: "done",
      name: "q3",
      status: "ok",
      testAccuracy: 0.5,
      bestEpoch: 3,
      cached: false,
      file: "r/q3.json",
      seconds: 60,
    });
    // The drawn bars are erased, the result line printed, and only q4's bar drawn again below it.
    const [before, after] = out
      .text()
      .split("q3: ok, test acc 50.00% (best val epoch 3), 60.0 s -> r/q3.json\n");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the terminal's escape codes are what is tested
    expect(before).toMatch(/^q3 epoch 2\/10 .* 10\/351 .*\x1b\[[12]A\r\x1b\[J$/s);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the terminal's escape codes are what is tested
    expect(after).toMatch(/^q4 epoch 2\/10 [^\n]* 20\/351 [^\n]*\x1b\[K\n$/);
  });
});
