import { fromArray, transpose } from "@nabla/ndarray";
import { describe, expect, it } from "vitest";
import { accuracy, countCorrect } from "./metrics.js";

describe("countCorrect / accuracy", () => {
  it("counts rows whose argmax equals the label; ties go to the lowest index", () => {
    const logits = fromArray([
      [0.1, 0.9, 0],
      [2, 2, 1],
      [0, 0, 5],
      [3, 1, 2],
    ]);
    expect(countCorrect(logits, [1, 0, 1, 0])).toBe(3);
    expect(countCorrect(logits, [1, 1, 1, 0])).toBe(2); // the tie in row 1 is class 0
    expect(accuracy(logits, [1, 0, 2, 0])).toBe(1);
  });

  it("counts a row containing NaN as wrong", () => {
    const logits = fromArray(
      [
        [Number.NaN, 0],
        [0, Number.NaN],
        [1, 0],
      ],
      undefined,
      "float64",
    );
    expect(countCorrect(logits, [0, 0, 0])).toBe(1);
    expect(countCorrect(logits, [1, 1, 0])).toBe(1);
  });

  it("reads strided views and rejects a label count mismatch", () => {
    const t = transpose(
      fromArray([
        [1, 0],
        [0, 1],
        [0, 0],
      ]),
    ); // [[1,0,0],[0,1,0]]
    expect(countCorrect(t, [0, 1])).toBe(2);
    expect(() => countCorrect(t, [0])).toThrow(/countCorrect: expected 2 labels, got 1/);
  });
});
