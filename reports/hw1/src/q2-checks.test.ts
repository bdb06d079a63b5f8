import { describe, expect, it } from "vitest";
import { checkQ2Gradients } from "./q2-checks.js";

describe("checkQ2Gradients (the report's verification table)", () => {
  it("covers every module and passes at < 1e-6", () => {
    const rows = checkQ2Gradients({ seed: 0 });
    expect(rows.map((r) => `${r.name}:${r.wrt}`)).toEqual([
      "Linear:input",
      "Linear:weight",
      "Linear:bias",
      "ReLU:input",
      "Softmax:input",
      "CrossEntropy:input",
      "SoftmaxCrossEntropy:input",
      "MLP + SoftmaxCrossEntropy:layers.0.weight",
      "MLP + SoftmaxCrossEntropy:layers.0.bias",
      "MLP + SoftmaxCrossEntropy:layers.1.weight",
      "MLP + SoftmaxCrossEntropy:layers.1.bias",
    ]);
    for (const r of rows) {
      expect(r.maxRelativeError, `${r.name} ${r.wrt}`).toBeLessThan(1e-6);
      expect(r.analytical.length).toBe(r.shape.reduce((a, b) => a * b, 1));
      expect(r.numerical.length).toBe(r.analytical.length);
    }
  });

  it("is deterministic for a seed", () => {
    const a = checkQ2Gradients({ seed: 7 }).map((r) => r.maxRelativeError);
    const b = checkQ2Gradients({ seed: 7 }).map((r) => r.maxRelativeError);
    expect(a).toEqual(b);
  });
});
