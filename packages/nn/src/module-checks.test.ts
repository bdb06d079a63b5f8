import { Rng } from "@nabla/ndarray";
import { describe, expect, it } from "vitest";
import { normalTensor } from "../test/helpers.js";
import { Linear } from "./linear.js";
import type { Module, Parameter } from "./module.js";
import { checkModuleGradients, checkQ2Gradients } from "./module-checks.js";

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

describe("checkModuleGradients", () => {
  it("catches a wrong backward (the check can fail)", () => {
    const rng = new Rng(1);
    const inner = new Linear(3, 2, { rng, dtype: "float64" });
    // A Linear whose backward forgets the bias gradient and halves dX.
    const buggy: Module = {
      forward: (x) => inner.forward(x),
      backward: (dY) => {
        const dX = inner.backward(dY);
        inner.biasGrad.data.fill(0);
        if (dX !== null) for (let i = 0; i < dX.data.length; i++) dX.data[i] *= 0.5;
        return dX;
      },
      parameters: (): Parameter[] => inner.parameters(),
      zeroGrad: () => inner.zeroGrad(),
    };
    const [input, weight, bias] = checkModuleGradients(buggy, normalTensor(rng, 4, 3));
    expect(input.maxRelativeError).toBeGreaterThan(0.3);
    expect(weight.maxRelativeError).toBeLessThan(1e-6);
    expect(bias.maxRelativeError).toBe(1);
  });

  it("refuses float32 tensors", () => {
    const rng = new Rng(0);
    const layer = new Linear(3, 2, { rng });
    expect(() => checkModuleGradients(layer, normalTensor(rng, 2, 3, "float32"))).toThrow(
      /need float64 tensors/,
    );
  });
});
