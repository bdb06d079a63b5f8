import { OptimError } from "./errors.js";

export type FloatArray = Float32Array | Float64Array;

/**
 * A named parameter and its gradient, both flat typed arrays of the same length. @nabla/nn's Parameter passes
 * `{ name, value: p.value.data, grad: p.grad.data }`. The optimizer keeps these references and updates `value`
 * in place, so the arrays must stay the live storage of the model.
 */
export interface ParamLike {
  name: string;
  value: FloatArray;
  grad: FloatArray;
}

function isFloatArray(a: unknown): a is FloatArray {
  return a instanceof Float32Array || a instanceof Float64Array;
}

/** Validates a parameter list once, at construction; names must be unique because state dicts are keyed by name. */
export function checkParams(owner: string, params: unknown): ParamLike[] {
  if (!Array.isArray(params))
    throw new OptimError(owner, "params", "an array of { name, value, grad }", params);
  if (params.length === 0)
    throw new OptimError(owner, "params", "a non-empty array (optimizer got no parameters)", params);
  const seen = new Set<string>();
  params.forEach((p: Partial<ParamLike> | null, i) => {
    const where = `params[${i}]`;
    if (p === null || typeof p !== "object")
      throw new OptimError(owner, where, "an object { name, value, grad }", p);
    if (typeof p.name !== "string" || p.name === "") {
      throw new OptimError(owner, `${where}.name`, "a non-empty string", p.name);
    }
    if (seen.has(p.name)) throw new OptimError(owner, `${where}.name`, "unique among the parameters", p.name);
    seen.add(p.name);
    if (!isFloatArray(p.value)) {
      throw new OptimError(owner, `${where}.value (${p.name})`, "a Float32Array or Float64Array", p.value);
    }
    if (!isFloatArray(p.grad)) {
      throw new OptimError(owner, `${where}.grad (${p.name})`, "a Float32Array or Float64Array", p.grad);
    }
    if (p.grad.length !== p.value.length) {
      throw new OptimError(
        owner,
        `${where}.grad (${p.name})`,
        `of the same length as value (${p.value.length})`,
        `length ${p.grad.length}`,
      );
    }
  });
  return params.slice() as ParamLike[];
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
  if (!Array.isArray(json)) throw new OptimError(owner, field, "an array of numbers", json);
  if (json.length !== like.length) {
    throw new OptimError(owner, field, `an array of length ${like.length}`, `length ${json.length}`);
  }
  const out = zerosLike(like);
  for (let i = 0; i < json.length; i++) {
    const v = decodeNumber(json[i]);
    if (v === undefined) throw new OptimError(owner, `${field}[${i}]`, "a number", json[i]);
    out[i] = v;
  }
  return out;
}
