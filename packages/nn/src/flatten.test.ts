import { contiguous, Rng, type Tensor, zeros } from "@nabla/ndarray";
import { describe, expect, it } from "vitest";
import { Flatten } from "./flatten.js";
import { buildSequential, parseLayers, planLayers } from "./layers.js";
import { checkModuleGradients } from "./module-checks.js";

function normal(shape: number[], seed: number): Tensor {
  const t = zeros(shape, "float64");
  new Rng(seed).fillNormal(t, 0, 1);
  return t;
}

describe("Flatten", () => {
  it("views [N, C, H, W] as [N, C·H·W] row-major and its gradient back as [N, C, H, W], without copies", () => {
    const flatten = new Flatten();
    const x = normal([2, 3, 4, 5], 1);
    const y = flatten.forward(x);
    expect(y.shape).toEqual([2, 60]);
    expect(y.data).toBe(x.data);
    expect(y.get(1, 2 * 20 + 3 * 5 + 4)).toBe(x.get(1, 2, 3, 4));
    const g = normal([2, 60], 2);
    const dx = flatten.backward(g);
    expect(dx.shape).toEqual([2, 3, 4, 5]);
    expect(dx.data).toBe(g.data);
    expect(dx.get(1, 2, 3, 4)).toBe(g.get(1, 2 * 20 + 3 * 5 + 4));
    const [check] = checkModuleGradients(new Flatten(), x);
    expect(check.maxRelativeError).toBeLessThan(1e-6);
  });

  it("copies strided tensors (into buffers it keeps) and passes a flat batch through", () => {
    const flatten = new Flatten();
    const x = normal([2, 3, 4, 5], 3).transpose(0, 1, 3, 2); // [2, 3, 5, 4], not contiguous
    const y = flatten.forward(x);
    expect(Array.from(y.data)).toEqual(Array.from(contiguous(x).data));
    expect(flatten.forward(x).data).toBe(y.data);
    const g = normal([60, 2], 4).transpose(1, 0);
    const dx = flatten.backward(g);
    expect(dx.shape).toEqual([2, 3, 5, 4]);
    expect(Array.from(dx.data)).toEqual(Array.from(contiguous(g).data));
    const flat = normal([3, 7], 5);
    expect(flatten.forward(flat)).toBe(flat);
    expect(flatten.backward(flat)).toBe(flat);
  });

  it("names what is wrong in one line", () => {
    const flatten = new Flatten();
    expect(() => flatten.backward(zeros([2, 4]))).toThrow("Flatten.backward: called before forward");
    expect(() => flatten.forward(zeros([5]))).toThrow(/Flatten.forward: input: expected a batch/);
    flatten.forward(zeros([2, 3, 2, 2]));
    expect(() => flatten.backward(zeros([2, 11]))).toThrow(
      "Flatten.backward: dY must have shape [2,12], got [2,11]",
    );
    expect(() => flatten.backward(zeros([2, 12], "float64"))).toThrow(
      /expected a float32 tensor, got float64/,
    );
  });

  it("as a layer: [C, H, W] → [C·H·W], holding nothing of its own; Linear after it reads the same values", () => {
    const plan = planLayers(["flatten", { linear: 10 }], [3, 32, 32]);
    expect(plan.layers[0].outShape).toEqual([3072]);
    expect(plan.layers[0].activations).toBe(0);
    expect(plan.outShape).toEqual([10]);
    expect(planLayers(["flatten"], [5]).outShape).toEqual([5]);
    expect(() => parseLayers([{ flatten: { startDim: 2 } }])).toThrow(
      /layers\[0\]: flatten: expected no options/,
    );
    // Linear reads any sample flattened, so the model with "flatten" has the same bits as the one without.
    const x = normal([2, 3, 4, 4], 6);
    const opts = { inputShape: [3, 4, 4], seed: 9, dtype: "float64" as const, computeInputGrad: true };
    const withFlatten = buildSequential(["flatten", { linear: 5 }], opts);
    const without = buildSequential([{ linear: 5 }], opts);
    const y = withFlatten.forward(x);
    expect(Array.from(y.data)).toEqual(Array.from(without.forward(x).data));
    const dx = withFlatten.backward(y);
    expect(dx?.shape).toEqual([2, 3, 4, 4]);
  });
});
