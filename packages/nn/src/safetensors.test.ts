import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromTypedArray, Rng, type Tensor, transpose, zeros } from "@nabla/ndarray";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normalTensor, PROPERTY, randomLabels, toRows } from "../test/helpers.js";
import { buildSequential } from "./layers.js";
import { SoftmaxCrossEntropy } from "./losses.js";
import {
  decodeSafetensors,
  encodeSafetensors,
  type Int64Tensor,
  loadSafetensors,
  MAX_HEADER_BYTES,
  saveSafetensors,
} from "./safetensors.js";

/** A file from a JSON header object and a data section, laid out by hand. */
function handBuilt(header: unknown, data: number[] = [], pad = true): Uint8Array {
  let json = JSON.stringify(header);
  if (pad) json += " ".repeat((8 - (json.length % 8)) % 8);
  const h = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

describe("safetensors encoding", () => {
  it("writes the documented layout: u64 LE length, space-padded sorted JSON header, raw LE bytes", () => {
    const b = fromTypedArray(new Float32Array([1, -2]), [2]);
    const a = fromTypedArray(new Float64Array([0.5]), [1, 1]);
    const n: Int64Tensor = { dtype: "int64", shape: [], data: BigInt64Array.of(7n) };
    const bytes = encodeSafetensors({ b, a, n }, { format: "pt" });
    const view = new DataView(bytes.buffer);
    const len = Number(view.getBigUint64(0, true));
    expect((8 + len) % 8).toBe(0);
    const headerText = new TextDecoder().decode(bytes.subarray(8, 8 + len));
    expect(headerText.trimEnd()).toBe(
      '{"__metadata__":{"format":"pt"},"a":{"dtype":"F64","shape":[1,1],"data_offsets":[0,8]},' +
        '"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},"n":{"dtype":"I64","shape":[],"data_offsets":[16,24]}}',
    );
    expect(/^ *$/.test(headerText.slice(headerText.trimEnd().length))).toBe(true);
    const d = 8 + len;
    expect(view.getFloat64(d, true)).toBe(0.5);
    expect(view.getFloat32(d + 8, true)).toBe(1);
    expect(view.getFloat32(d + 12, true)).toBe(-2);
    expect(view.getBigInt64(d + 16, true)).toBe(7n);
    expect(bytes.length).toBe(d + 24);
  });

  it("round-trips every shape and dtype bit for bit, strided inputs included", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
            dtype: fc.constantFrom("float32", "float64", "int64"),
            seed: fc.nat(),
          }),
          { maxLength: 5 },
        ),
        fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
        (specs, metadata) => {
          const tensors: Record<string, Tensor | Int64Tensor> = {};
          specs.forEach(({ shape, dtype, seed }, i) => {
            const rng = new Rng(seed);
            const size = shape.reduce((x, y) => x * y, 1);
            if (dtype === "int64") {
              tensors[`t${i}`] = {
                dtype,
                shape,
                data: BigInt64Array.from({ length: size }, () => BigInt(rng.nextUint32()) - 2n ** 31n),
              };
            } else {
              const t = zeros(shape, dtype);
              rng.fillNormal(t, 0, 1e3);
              tensors[`t${i}`] = t;
            }
          });
          const decoded = decodeSafetensors(encodeSafetensors(tensors, metadata));
          expect(decoded.metadata).toEqual(metadata);
          expect(Object.keys(decoded.tensors).sort()).toEqual(Object.keys(tensors).sort());
          for (const [k, t] of Object.entries(tensors)) {
            const d = decoded.tensors[k];
            expect([...d.shape], k).toEqual([...t.shape]);
            expect(d.data.constructor).toBe(t.data.constructor);
            expect(Array.from(d.data as ArrayLike<unknown>)).toEqual(
              Array.from(t.data as ArrayLike<unknown>),
            );
          }
        },
      ),
      PROPERTY,
    );
    const m = normalTensor(new Rng(1), 2, 3);
    const back = decodeSafetensors(encodeSafetensors({ m: transpose(m) })).tensors.m as Tensor;
    expect(toRows(back)).toEqual(toRows(transpose(m)));
  });

  it("decodes a hand-built file", () => {
    const data = new Uint8Array(12);
    const v = new DataView(data.buffer);
    v.setFloat32(0, 1.5, true);
    v.setFloat64(4, -3, true);
    const bytes = handBuilt(
      {
        y: { dtype: "F64", shape: [1], data_offsets: [4, 12] },
        x: { dtype: "F32", shape: [1, 1], data_offsets: [0, 4] },
      },
      Array.from(data),
      false,
    );
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual({});
    expect(Array.from((tensors.x as Tensor).data)).toEqual([1.5]);
    expect(tensors.x.data).toBeInstanceOf(Float32Array);
    expect(Array.from((tensors.y as Tensor).data)).toEqual([-3]);
  });

  it("rejects malformed files with one-line errors", () => {
    const f32 = (offsets: number[], shape = [1]) => ({ dtype: "F32", shape, data_offsets: offsets });
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array(5), /file is 5 bytes, shorter than the 8-byte header length/],
      [handBuilt({}).subarray(0, 9), /header length \d+ exceeds the 1 bytes after it/],
      [handBuilt({ x: f32([0, 4]) }, [0, 0, 0]), /"x" ends at byte 4, past the 3-byte data section/],
      [
        handBuilt({ x: { dtype: "BF16", shape: [1], data_offsets: [0, 2] } }, [0, 0]),
        /"x" has dtype "BF16", expected F32, F64 or I64/,
      ],
      [
        handBuilt({ x: f32([0, 8], [3]) }, new Array(8).fill(0)),
        /"x" has 8 bytes, expected 12 for F32 shape \[3\]/,
      ],
      [
        handBuilt({ x: f32([0, 4]), y: f32([2, 6]) }, new Array(6).fill(0)),
        /"y" starts at byte 2, overlapping the previous tensor/,
      ],
      [handBuilt({ x: f32([4, 8]) }, new Array(8).fill(0)), /"x" starts at byte 4, leaving a gap/],
      [
        handBuilt({ x: f32([0, 4]) }, new Array(8).fill(0)),
        /tensors cover 4 bytes but the data section has 8/,
      ],
      [handBuilt({ x: f32([4, 0]) }, []), /data_offsets must be \[begin, end\]/],
      [
        handBuilt({ x: { dtype: "F32", shape: [-1], data_offsets: [0, 0] } }),
        /shape must be an array of non-negative integers/,
      ],
      [handBuilt({ __metadata__: { a: 1 } }), /__metadata__ "a" must be a string/],
      [handBuilt([1]), /header must be a JSON object/],
    ];
    for (const [bytes, message] of cases) expect(() => decodeSafetensors(bytes)).toThrow(message);
    const notJson = handBuilt({});
    notJson[8] = 0x7b + 1;
    expect(() => decodeSafetensors(notJson)).toThrow(/header is not valid UTF-8 JSON/);
  });

  it("refuses a header over the Rust library's 100 MB before decoding it; quoted values are cut short", () => {
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES + 1), true);
    expect(MAX_HEADER_BYTES).toBe(100_000_000);
    expect(() => decodeSafetensors(huge)).toThrow(
      "decodeSafetensors: header length 100000001 is over the format's limit of 100000000 bytes",
    );
    // A 20 MB dtype, and a tensor named like one, must not become 20 MB error lines.
    const long = "x".repeat(20_000_000);
    for (const header of [
      { t: { dtype: long, shape: [], data_offsets: [0, 0] } },
      { [long]: { dtype: "F32", shape: "no", data_offsets: [0, 0] } },
    ]) {
      let message = "";
      try {
        decodeSafetensors(handBuilt(header));
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/^decodeSafetensors: .*"x{200}"….*(expected F32|shape must be)/);
      expect(message.length).toBeLessThan(500);
    }
    expect(() =>
      decodeSafetensors(handBuilt({ t: { dtype: "constructor", shape: [], data_offsets: [0, 0] } })),
    ).toThrow(/has dtype "constructor", expected F32, F64 or I64/);
  });
});

const TORCH = spawnSync("/usr/bin/python3", ["-c", "import torch"], { encoding: "utf8" });
const torchMissing = TORCH.status !== 0;
if (torchMissing) {
  console.log(
    `skipping the PyTorch checkpoint test: /usr/bin/python3 -c "import torch" failed (${TORCH.error?.message ?? TORCH.stderr.trim().split("\n").pop()})`,
  );
}

describe("checkpoints", () => {
  const layers = [{ linear: 6 }, { batchnorm1d: {} }, "relu", { dropout: 0.25 }, { linear: 3 }];

  /** A model after two SGD steps, so the running statistics are not their initial 0 and 1. */
  function trained() {
    const model = buildSequential(layers, { inputDim: 4, seed: 5 });
    const rng = new Rng(6);
    const loss = new SoftmaxCrossEntropy();
    for (let step = 0; step < 2; step++) {
      const x = normalTensor(rng, 8, 4, "float32", 2);
      model.zeroGrad();
      loss.forward(model.forward(x), randomLabels(rng, 8, 3));
      model.backward(loss.backward());
      for (const p of model.parameters())
        for (let i = 0; i < p.value.data.length; i++) p.value.data[i] -= 0.1 * p.grad.data[i];
    }
    return model.eval();
  }

  it("save and load restore every parameter and buffer (num_batches_tracked as I64)", () => {
    const model = trained();
    const bytes = saveSafetensors(model, { layers: JSON.stringify(layers) });
    const decoded = decodeSafetensors(bytes);
    expect(decoded.tensors["1.num_batches_tracked"]).toEqual({
      dtype: "int64",
      shape: [],
      data: BigInt64Array.of(2n),
    });
    const copy = buildSequential(layers, { inputDim: 4, seed: 99 }).eval();
    expect(loadSafetensors(copy, bytes)).toEqual({ layers: JSON.stringify(layers) });
    for (const [k, v] of Object.entries(model.stateDict()))
      expect(Array.from(copy.stateDict()[k].data), k).toEqual(Array.from(v.data));
    const x = normalTensor(new Rng(7), 5, 4, "float32");
    expect(Array.from(copy.forward(x).data)).toEqual(Array.from(model.forward(x).data));
    const smaller = buildSequential([{ linear: 6 }], { inputDim: 4, seed: 0 });
    expect(() => loadSafetensors(smaller, bytes)).toThrow(/loadStateDict: unexpected key "1\.bias"/);
  });

  it.skipIf(torchMissing)(
    "torch.nn.Sequential loads the file (strict) and gives the same eval logits",
    () => {
      const model = trained();
      const dir = mkdtempSync(join(tmpdir(), "nabla-safetensors-"));
      const file = join(dir, "model.safetensors");
      const inputsFile = join(dir, "inputs.json");
      writeFileSync(
        file,
        saveSafetensors(model, { layers: JSON.stringify(layers), inputDim: "4", dtype: "float32" }),
      );
      const x = normalTensor(new Rng(8), 5, 4, "float32");
      writeFileSync(inputsFile, JSON.stringify(toRows(x)));
      const script = new URL("../scripts/safetensors-torch.py", import.meta.url).pathname;
      const out = execFileSync("/usr/bin/python3", [script, file, inputsFile], { encoding: "utf8" });
      const torchLogits: number[][] = JSON.parse(out);
      const ours = toRows(model.forward(x));
      expect(torchLogits.length).toBe(ours.length);
      for (let i = 0; i < ours.length; i++) {
        for (let j = 0; j < ours[i].length; j++)
          expect(Math.abs(torchLogits[i][j] - ours[i][j])).toBeLessThan(1e-5);
      }
    },
  );
});
