import { isContiguous, type Parameter, type Tensor } from "@nabla/ndarray";
import { optimError } from "./errors.js";

export type FloatArray = Float32Array | Float64Array;

function isFloatArray(a: unknown): a is FloatArray {
  return a instanceof Float32Array || a instanceof Float64Array;
}

/**
 * A tensor the optimizer may update through its flat `.data`: the view must cover its whole buffer (offset 0,
 * row-major, no gaps), because the update loops run over `data` and would otherwise touch other tensors' values.
 */
function checkTensor(owner: string, field: string, t: unknown): Tensor {
  if (t === null || typeof t !== "object" || !isFloatArray((t as Tensor).data)) {
    throw optimError(owner, field, "a tensor over a Float32Array or Float64Array", t);
  }
  const tensor = t as Tensor;
  if (tensor.offset !== 0 || !isContiguous(tensor) || tensor.size !== tensor.data.length) {
    throw optimError(
      owner,
      field,
      "a contiguous tensor with offset 0 covering its whole buffer (use contiguous(t) on a view)",
      `offset ${tensor.offset}, ${tensor.size} of ${tensor.data.length} values`,
    );
  }
  return tensor;
}

/**
 * Validates a parameter list once, at construction: @nabla/ndarray Parameters whose value and grad tensors have
 * the same length. Names must be unique because state dicts are keyed by name. The optimizer keeps the
 * Parameter objects and reads `value.data`/`grad.data` at every step, updating `value` in place.
 */
export function checkParams(owner: string, params: unknown): Parameter[] {
  if (!Array.isArray(params)) throw optimError(owner, "params", "an array of Parameters", params);
  if (params.length === 0)
    throw optimError(owner, "params", "a non-empty array (the optimizer got no parameters)", params);
  const seen = new Set<string>();
  params.forEach((p: Partial<Parameter> | null, i) => {
    const where = `params[${i}]`;
    if (p === null || typeof p !== "object")
      throw optimError(owner, where, "a Parameter { name, value, grad }", p);
    if (typeof p.name !== "string" || p.name === "") {
      throw optimError(owner, `${where}.name`, "a non-empty string", p.name);
    }
    if (seen.has(p.name))
      throw optimError(owner, `${where}.name`, "a name unique among the parameters", p.name);
    seen.add(p.name);
    const value = checkTensor(owner, `${where}.value (${p.name})`, p.value);
    const grad = checkTensor(owner, `${where}.grad (${p.name})`, p.grad);
    if (grad.size !== value.size) {
      throw optimError(
        owner,
        `${where}.grad (${p.name})`,
        `as many values as value (${value.size})`,
        `${grad.size}`,
      );
    }
  });
  return params.slice() as Parameter[];
}

/** A buffer of the parameter's own dtype (float32 params get float32 state, as in torch). */
export function zerosLike(a: FloatArray): FloatArray {
  return a instanceof Float32Array ? new Float32Array(a.length) : new Float64Array(a.length);
}

/**
 * JSON has no NaN/Infinity (JSON.stringify would silently write null), so non-finite values are written as the
 * strings "NaN", "Infinity", "-Infinity". Finite doubles round-trip exactly through JSON.stringify/parse.
 */
export type JsonNumber = number | "NaN" | "Infinity" | "-Infinity";

export function encodeArray(a: FloatArray): JsonNumber[] {
  const out: JsonNumber[] = new Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    out[i] = Number.isFinite(v) ? v : (String(v) as JsonNumber);
  }
  return out;
}

function decodeNumber(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (v === "NaN") return Number.NaN;
  if (v === "Infinity") return Number.POSITIVE_INFINITY;
  if (v === "-Infinity") return Number.NEGATIVE_INFINITY;
  return undefined;
}

/** Parses a JSON array into a new buffer of `like`'s dtype and length; throws naming `field` on any mismatch. */
export function decodeArray(owner: string, field: string, json: unknown, like: FloatArray): FloatArray {
  if (!Array.isArray(json)) throw optimError(owner, field, "an array of numbers", json);
  if (json.length !== like.length) {
    throw optimError(owner, field, `an array of length ${like.length}`, `length ${json.length}`);
  }
  const out = zerosLike(like);
  for (let i = 0; i < json.length; i++) {
    const v = decodeNumber(json[i]);
    if (v === undefined) throw optimError(owner, `${field}[${i}]`, "a number", json[i]);
    out[i] = v;
  }
  return out;
}
