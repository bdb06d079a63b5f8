import { describe, expect, it } from "vitest";
import { etaSeconds, formatDuration, progressLine } from "./format.js";

describe("the progress line", () => {
  it("formats durations for people", () => {
    expect(formatDuration(4.04)).toBe("4.0 s");
    expect(formatDuration(42.4)).toBe("42 s");
    expect(formatDuration(75.2)).toBe("1 min 15 s");
    expect(formatDuration(3 * 3600 + 120)).toBe("3 h 2 min");
    expect(formatDuration(Number.NaN)).toBe("…");
  });

  it("extrapolates the ETA from the mean time per step so far", () => {
    expect(etaSeconds(10, 20, 100)).toBe(40);
    expect(Number.isNaN(etaSeconds(1, 0, 100))).toBe(true);
  });

  it("says epoch, batch, running loss and ETA", () => {
    const event = {
      type: "step",
      name: "homework-mlp",
      epoch: 2,
      epochs: 5,
      step: 10,
      stepsPerEpoch: 20,
      loss: 1.83216,
      samples: 1280,
      epochElapsedSeconds: 1,
    } as const;
    // 30 of 100 steps in 15 s: 70 to go at 0.5 s each
    expect(progressLine(event, 15)).toBe("epoch 2/5 · batch 10/20 · train loss 1.832 · ETA 35 s");
  });
});
