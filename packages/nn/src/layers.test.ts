import { Rng, type Tensor, zeros } from "@nabla/ndarray";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { normalTensor, randomLabels } from "../test/helpers.js";
import type { BatchNorm1d } from "./batchnorm.js";
import { Dropout } from "./dropout.js";
import {
  buildSequential,
  layerSeed,
  layerSpecSchema,
  layersSchema,
  mlpLayers,
  parseLayers,
  registeredLayers,
  registerLayer,
} from "./layers.js";
import { Linear } from "./linear.js";
import { SoftmaxCrossEntropy } from "./losses.js";
import { ModuleBase, type Parameter } from "./module.js";
import { checkNetworkGradients } from "./module-checks.js";
import { MLP } from "./sequential.js";

describe("layer specs", () => {
  it("accept names, one-key objects and the shorthands", () => {
    expect(
      parseLayers([
        { linear: 128 },
        { linear: { out: 4 } },
        "relu",
        { batchnorm1d: {} },
        "batchnorm1d",
        { dropout: 0.2 },
        { dropout: { p: 0 } },
      ]),
    ).toEqual([
      { name: "linear", config: { out: 128 } },
      { name: "linear", config: { out: 4 } },
      { name: "relu", config: {} },
      { name: "batchnorm1d", config: {} },
      { name: "batchnorm1d", config: {} },
      { name: "dropout", config: { p: 0.2 } },
      { name: "dropout", config: { p: 0 } },
    ]);
    expect(layerSpecSchema().parse({ batchnorm1d: { momentum: 0.2, affine: false } })).toEqual({
      name: "batchnorm1d",
      config: { momentum: 0.2, affine: false },
    });
    expect(mlpLayers([128, 64], 10)).toEqual([
      { linear: 128 },
      "relu",
      { linear: 64 },
      "relu",
      { linear: 10 },
    ]);
  });

  it("errors name the index and the expected layers", () => {
    expect(() => parseLayers(["relu", "no_such_layer"])).toThrow(
      `parseLayers: layers[1]: unknown layer "no_such_layer"; expected one of ${registeredLayers().join(", ")}`,
    );
    expect(() => parseLayers([{ linear: 0 }])).toThrow(
      /layers\[0\]: linear: expected a positive integer width/,
    );
    expect(() => parseLayers(["linear"])).toThrow(/layers\[0\]: linear \(the bare name means linear: \{\}\)/);
    expect(() => parseLayers([{ dropout: 1 }])).toThrow(
      /layers\[0\]: dropout: expected a drop probability in \[0, 1\)/,
    );
    expect(() => parseLayers([{ relu: {}, linear: 3 }])).toThrow(
      /layers\[0\]: a layer object needs exactly one key/,
    );
    expect(() => parseLayers([{ batchnorm1d: { momentum: 0.1, bogus: 1 } }])).toThrow(
      /layers\[0\]: batchnorm1d: /,
    );
    expect(() => parseLayers([])).toThrow(/at least one layer/);
    expect(() => parseLayers([42])).toThrow(/layers\[0\]: a layer is a name or a one-key object, got 42/);
    const r = layersSchema().safeParse(["relu", { nope: 1 }]);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0].path).toEqual([1]);
  });
});

describe("buildSequential(mlpLayers(...)) is bit-identical to MLP", () => {
  it.each(["float32", "float64"] as const)("logits, gradients and SGD steps (%s)", (dtype) => {
    const [inputDim, hidden, classes, seed] = [12, [9, 7], 4, 31];
    const mlp = new MLP(inputDim, hidden, classes, { seed, dtype });
    const seq = buildSequential(mlpLayers(hidden, classes), { inputDim, seed, dtype });
    expect(seq.outShape).toEqual([classes]);
    const linears = seq.modules.filter((m): m is Linear => m instanceof Linear);
    expect(linears.map((l) => l.computeInputGrad)).toEqual(mlp.layers.map((l) => l.computeInputGrad));
    const rng = new Rng(8);
    const x = normalTensor(rng, 6, inputDim, dtype);
    const labels = randomLabels(rng, 6, classes);
    const step = (model: MLP | typeof seq, loss: SoftmaxCrossEntropy) => {
      model.zeroGrad();
      const logits = Array.from(model.forward(x).data);
      loss.forward(model.forward(x), labels);
      model.backward(loss.backward());
      const grads = model.parameters().map((p) => Array.from(p.grad.data));
      for (const p of model.parameters())
        for (let i = 0; i < p.value.data.length; i++) p.value.data[i] -= 0.1 * p.grad.data[i];
      return { logits, grads };
    };
    const l1 = new SoftmaxCrossEntropy();
    const l2 = new SoftmaxCrossEntropy();
    for (let k = 0; k < 3; k++) expect(step(seq, l2)).toEqual(step(mlp, l1));
    expect(seq.parameters().map((p) => Array.from(p.value.data))).toEqual(
      mlp.parameters().map((p) => Array.from(p.value.data)),
    );
    expect(seq.parameters().map((p) => p.name)).toEqual([
      "0.weight",
      "0.bias",
      "2.weight",
      "2.bias",
      "4.weight",
      "4.bias",
    ]);
  });
});

describe("Sequential modes, buffers and state dicts", () => {
  const spec = [{ linear: 5 }, { batchnorm1d: {} }, "relu", { dropout: 0.5 }, { linear: 3 }];

  it("names entries like torch.nn.Sequential and propagates train/eval", () => {
    const model = buildSequential(spec, { inputDim: 4, seed: 0 });
    expect(Object.keys(model.stateDict())).toEqual([
      "0.weight",
      "0.bias",
      "1.weight",
      "1.bias",
      "1.running_mean",
      "1.running_var",
      "1.num_batches_tracked",
      "4.weight",
      "4.bias",
    ]);
    expect(model.buffers().map((b) => b.name)).toEqual([
      "1.running_mean",
      "1.running_var",
      "1.num_batches_tracked",
    ]);
    expect(model.training).toBe(true);
    model.eval();
    expect(model.modules.every((m) => !m.training)).toBe(true);
    model.train();
    expect(model.modules.every((m) => m.training)).toBe(true);
  });

  it("dropout masks come from new Rng(layerSeed(seed, index)), not the init stream", () => {
    const model = buildSequential(spec, { inputDim: 4, seed: 9 });
    const x = normalTensor(new Rng(1), 6, 4, "float32");
    const ref = new Dropout(0.5, { rng: new Rng(layerSeed(9, 3)) });
    const h = model.modules.slice(0, 3).reduce((t, m) => m.forward(t), x);
    const expected = Array.from(ref.forward(h).data);
    expect(Array.from((model.modules[3] as Dropout).forward(h).data)).toEqual(expected);
    const again = buildSequential(spec, { inputDim: 4, seed: 9 });
    expect(Array.from(again.forward(x).data)).toEqual(
      Array.from(buildSequential(spec, { inputDim: 4, seed: 9 }).forward(x).data),
    );
    expect(layerSeed(9, 3)).not.toBe(layerSeed(9, 4));
  });

  it("gradients of a BatchNorm + Dropout model in eval mode pass the network gradcheck", () => {
    const model = buildSequential(
      [{ linear: 5 }, { batchnorm1d: {} }, "relu", { dropout: 0.3 }, { linear: 3 }],
      {
        inputDim: 4,
        seed: 2,
        dtype: "float64",
      },
    );
    const rng = new Rng(3);
    const x = normalTensor(rng, 6, 4);
    model.forward(x); // non-trivial running statistics
    model.eval();
    for (const r of checkNetworkGradients(model, new SoftmaxCrossEntropy(), x, randomLabels(rng, 6, 3))) {
      expect(r.maxRelativeError, r.wrt).toBeLessThan(1e-6);
    }
  });

  it("loadStateDict copies into live storage and names what is wrong", () => {
    const a = buildSequential(spec, { inputDim: 4, seed: 1 });
    const b = buildSequential(spec, { inputDim: 4, seed: 2 });
    a.forward(normalTensor(new Rng(0), 3, 4, "float32"));
    const weight = b.parameters()[0].value;
    b.loadStateDict(a.stateDict());
    expect(b.parameters()[0].value).toBe(weight);
    for (const [k, v] of Object.entries(a.stateDict()))
      expect(Array.from(b.stateDict()[k].data), k).toEqual(Array.from(v.data));
    const dict = a.stateDict();
    expect(() => b.loadStateDict({ ...dict, extra: dict["0.bias"] })).toThrow(
      /loadStateDict: unexpected key "extra"/,
    );
    const { "1.running_var": _, ...missing } = dict;
    expect(() => b.loadStateDict(missing)).toThrow(/loadStateDict: missing key "1.running_var"/);
    b.loadStateDict(missing, { strict: false });
    expect(() => b.loadStateDict({ ...dict, "0.bias": zeros([4]) })).toThrow(
      /"0.bias" must have shape \[5\], got \[4\]/,
    );
    expect(() => b.loadStateDict({ ...dict, "0.bias": zeros([5], "float64") })).toThrow(
      /"0.bias" must be float32, got float64/,
    );
  });
});

describe("registerLayer", () => {
  /** y = s·x with a learned per-model scalar s ("scale"). */
  class Scale extends ModuleBase {
    readonly s = zeros([1], "float64");
    readonly ds = zeros([1], "float64");
    private x: Tensor | null = null;
    private readonly y: Tensor;
    private readonly dx: Tensor;
    constructor(init: number, dim: number) {
      super();
      this.s.data[0] = init;
      this.y = zeros([2, dim], "float64");
      this.dx = zeros([2, dim], "float64");
    }
    forward(x: Tensor): Tensor {
      this.x = x;
      for (let i = 0; i < x.size; i++) this.y.data[i] = this.s.data[0] * x.data[i];
      return this.y;
    }
    backward(dY: Tensor): Tensor {
      const x = this.x as Tensor;
      for (let i = 0; i < x.size; i++) {
        this.ds.data[0] += dY.data[i] * x.data[i];
        this.dx.data[i] = this.s.data[0] * dY.data[i];
      }
      return this.dx;
    }
    override parameters(): Parameter[] {
      return [{ name: "s", value: this.s, grad: this.ds }];
    }
  }

  it("a layer registered from outside is accepted by the schema and built into a model", () => {
    expect(() => parseLayers([{ scale: 2 }])).toThrow(/unknown layer "scale"/);
    registerLayer("scale", {
      schema: z.union([z.number().transform((s) => ({ s })), z.strictObject({ s: z.number() })]),
      build: ({ s }, ctx) => new Scale(s, ctx.inShape[0]),
    });
    expect(registeredLayers()).toContain("scale");
    expect(() => registerLayer("scale", { schema: z.unknown(), build: () => new Scale(1, 1) })).toThrow(
      /layer "scale" is already registered/,
    );
    expect(() => parseLayers(["no_such_layer"])).toThrow(/expected one of .*\bscale$/);
    const model = buildSequential([{ linear: 3 }, { scale: 0.5 }, { linear: 2 }], {
      inputDim: 4,
      seed: 0,
      dtype: "float64",
    });
    expect(model.parameters().map((p) => p.name)).toEqual([
      "0.weight",
      "0.bias",
      "1.s",
      "2.weight",
      "2.bias",
    ]);
    const rng = new Rng(4);
    for (const r of checkNetworkGradients(
      model,
      new SoftmaxCrossEntropy(),
      normalTensor(rng, 2, 4),
      [0, 1],
    )) {
      expect(r.maxRelativeError, r.wrt).toBeLessThan(1e-6);
    }
    expect(() =>
      registerLayer("Bad-Name", {
        schema: z.unknown(),
        build: () => new Scale(1, 1),
      }),
    ).toThrow(/name must match/);
  });

  it("a BatchNorm first layer makes the following Linear compute its input gradient", () => {
    const model = buildSequential(["batchnorm1d", { linear: 2 }], { inputDim: 3, seed: 0 });
    expect((model.modules[0] as BatchNorm1d).features).toBe(3);
    expect((model.modules[1] as Linear).computeInputGrad).toBe(true);
  });
});
