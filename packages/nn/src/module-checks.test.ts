import { Rng, type Tensor } from "@nabla/ndarray";
import { describe, expect, it } from "vitest";
import { normalTensor } from "../test/helpers.js";
import { Linear } from "./linear.js";
import { ModuleBase, type Parameter } from "./module.js";
import { checkModuleGradients } from "./module-checks.js";

describe("checkModuleGradients", () => {
  it("catches a wrong backward (the check can fail)", () => {
    const rng = new Rng(1);
    const inner = new Linear(3, 2, { rng, dtype: "float64" });
    // A Linear whose backward forgets the bias gradient and halves dX.
    class Buggy extends ModuleBase {
      forward(x: Tensor): Tensor {
        return inner.forward(x);
      }
      backward(dY: Tensor): Tensor | null {
        const dX = inner.backward(dY);
        inner.biasGrad.data.fill(0);
        if (dX !== null) for (let i = 0; i < dX.data.length; i++) dX.data[i] *= 0.5;
        return dX;
      }
      override parameters(): Parameter[] {
        return inner.parameters();
      }
    }
    const buggy = new Buggy();
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
