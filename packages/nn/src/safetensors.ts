/**
 * The safetensors file format (https://github.com/huggingface/safetensors): an 8-byte little-endian
 * header length n, n bytes of JSON header padded with spaces so the data starts 8-byte aligned, then the
 * tensors' raw little-endian bytes. Written with tensors sorted by name; read with the same validation
 * the Rust library applies (offsets contiguous, in range, byte counts matching the shapes).
 */
import { fromTypedArray, type Tensor } from "@nabla/ndarray";
import { fail } from "./errors.js";
import type { Module } from "./module.js";
import { dtypeOf } from "./tensors.js";

/** An int64 tensor, for entries such as BatchNorm's num_batches_tracked, which PyTorch stores as I64. */
export interface Int64Tensor {
  dtype: "int64";
  shape: number[];
  data: BigInt64Array;
}

export type SafetensorsValue = Tensor | Int64Tensor;

const ELEMENT_BYTES = { F32: 4, F64: 8, I64: 8 } as const;

/** The Rust library refuses headers over 100 MB (MAX_HEADER_SIZE); so does this reader, before decoding one. */
export const MAX_HEADER_BYTES = 100_000_000;
/** How much of a header value a message quotes: a 20 MB dtype string must not become a 20 MB error line. */
const SHOWN_CHARS = 200;

/** A header value as JSON for a message, cut to SHOWN_CHARS with an ellipsis (names and values are untrusted). */
function shown(value: unknown): string {
  if (typeof value === "string")
    return value.length > SHOWN_CHARS
      ? `${JSON.stringify(value.slice(0, SHOWN_CHARS))}…`
      : JSON.stringify(value);
  const text = JSON.stringify(value) ?? String(value);
  return text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS)}…` : text;
}
type FileDtype = keyof typeof ELEMENT_BYTES;

function isInt64(t: SafetensorsValue): t is Int64Tensor {
  return (t as Int64Tensor).dtype === "int64";
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Row-major values of a tensor of any strides. */
function* values(t: Tensor): Generator<number> {
  const dims = t.shape.length;
  const idx = new Array<number>(dims).fill(0);
  for (let k = 0; k < t.size; k++) {
    let o = t.offset;
    for (let d = 0; d < dims; d++) o += idx[d] * t.stride[d];
    yield t.data[o];
    for (let d = dims - 1; d >= 0; d--) {
      if (++idx[d] < t.shape[d]) break;
      idx[d] = 0;
    }
  }
}

/** Encodes tensors (any strides; float32 → F32, float64 → F64, Int64Tensor → I64) and string metadata. */
export function encodeSafetensors(
  tensors: Record<string, SafetensorsValue>,
  metadata?: Record<string, string>,
): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string")
        fail("encodeSafetensors", `metadata "${k}" must be a string, got ${typeof v}`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  const layout: { name: string; dtype: FileDtype; begin: number }[] = [];
  for (const name of names) {
    if (name === "__metadata__")
      fail("encodeSafetensors", `"__metadata__" is reserved and cannot name a tensor`);
    const t = tensors[name];
    const dtype: FileDtype = isInt64(t)
      ? "I64"
      : dtypeOf(t, `encodeSafetensors: "${name}"`) === "float64"
        ? "F64"
        : "F32";
    const bytes = elementCount(t.shape) * ELEMENT_BYTES[dtype];
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    layout.push({ name, dtype, begin: offset });
    offset += bytes;
  }
  let json = JSON.stringify(header);
  const jsonBytes = () => new TextEncoder().encode(json).length;
  json += " ".repeat((8 - (jsonBytes() % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  const base = 8 + headerBytes.length;
  for (const { name, dtype, begin } of layout) {
    const t = tensors[name];
    let o = base + begin;
    if (isInt64(t)) {
      for (const v of t.data) {
        view.setBigInt64(o, v, true);
        o += 8;
      }
    } else if (dtype === "F64") {
      for (const v of values(t)) {
        view.setFloat64(o, v, true);
        o += 8;
      }
    } else {
      for (const v of values(t)) {
        view.setFloat32(o, v, true);
        o += 4;
      }
    }
  }
  return out;
}

export interface DecodedSafetensors {
  tensors: Record<string, SafetensorsValue>;
  metadata: Record<string, string>;
}

/** Decodes a safetensors file; every structural problem is a one-line NnError. */
export function decodeSafetensors(bytes: Uint8Array): DecodedSafetensors {
  const where = "decodeSafetensors";
  if (bytes.length < 8) fail(where, `file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES))
    fail(where, `header length ${n} is over the format's limit of ${MAX_HEADER_BYTES} bytes`);
  if (n > BigInt(bytes.length - 8))
    fail(where, `header length ${n} exceeds the ${bytes.length - 8} bytes after it`);
  const headerLength = Number(n);
  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)),
    );
  } catch {
    fail(where, "header is not valid UTF-8 JSON");
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    fail(where, "header must be a JSON object");
  }
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: FileDtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (raw === null || typeof raw !== "object" || Array.isArray(raw))
        fail(where, "__metadata__ must be an object");
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== "string") fail(where, `__metadata__ ${shown(k)} must be a string, got ${typeof v}`);
        metadata[k] = v;
      }
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e === null || typeof e !== "object") fail(where, `${shown(name)} must be an object`);
    if (typeof e.dtype !== "string" || !Object.hasOwn(ELEMENT_BYTES, e.dtype)) {
      fail(where, `${shown(name)} has dtype ${shown(e.dtype)}, expected F32, F64 or I64`);
    }
    const dtype = e.dtype as FileDtype;
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(where, `${shown(name)} shape must be an array of non-negative integers, got ${shown(e.shape)}`);
    }
    const offsets = e.data_offsets;
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offsets[0] > offsets[1]
    ) {
      fail(
        where,
        `${shown(name)} data_offsets must be [begin, end] with 0 ≤ begin ≤ end, got ${shown(offsets)}`,
      );
    }
    const [begin, end] = offsets as number[];
    if (end > dataLength)
      fail(where, `${shown(name)} ends at byte ${end}, past the ${dataLength}-byte data section`);
    const shape = e.shape as number[];
    const expected = elementCount(shape) * ELEMENT_BYTES[dtype];
    if (end - begin !== expected) {
      fail(
        where,
        `${shown(name)} has ${end - begin} bytes, expected ${expected} for ${dtype} shape ${shown(shape)}`,
      );
    }
    entries.push({ name, dtype, shape, begin, end });
  }
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of byOffset) {
    if (e.begin < cursor)
      fail(
        where,
        `${shown(e.name)} starts at byte ${e.begin}, overlapping the previous tensor (ends at ${cursor})`,
      );
    if (e.begin > cursor)
      fail(where, `${shown(e.name)} starts at byte ${e.begin}, leaving a gap after byte ${cursor}`);
    cursor = e.end;
  }
  if (cursor !== dataLength)
    fail(where, `tensors cover ${cursor} bytes but the data section has ${dataLength}`);
  const tensors: Record<string, SafetensorsValue> = {};
  for (const { name, dtype, shape, begin } of entries) {
    const count = elementCount(shape);
    const o = dataStart + begin;
    if (dtype === "I64") {
      const data = new BigInt64Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getBigInt64(o + 8 * i, true);
      tensors[name] = { dtype: "int64", shape, data };
    } else if (dtype === "F64") {
      const data = new Float64Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat64(o + 8 * i, true);
      tensors[name] = fromTypedArray(data, shape);
    } else {
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(o + 4 * i, true);
      tensors[name] = fromTypedArray(data, shape);
    }
  }
  return { tensors, metadata };
}

/**
 * A module's state dict as a safetensors file. Buffers marked `integer` (num_batches_tracked) are
 * written as I64, as PyTorch saves them.
 */
export function saveSafetensors(module: Module, metadata?: Record<string, string>): Uint8Array {
  const integers = new Set(
    module
      .buffers()
      .filter((b) => b.integer)
      .map((b) => b.name),
  );
  const out: Record<string, SafetensorsValue> = {};
  for (const [name, t] of Object.entries(module.stateDict())) {
    out[name] = integers.has(name)
      ? { dtype: "int64", shape: [...t.shape], data: BigInt64Array.from(values(t), BigInt) }
      : t;
  }
  return encodeSafetensors(out, metadata);
}

/**
 * Loads a safetensors file into a module through loadStateDict (so strictness, shape and dtype checks are
 * the same); I64 entries become float64 tensors, which hold them exactly up to 2^53.
 */
export function loadSafetensors(
  module: Module,
  bytes: Uint8Array,
  opts: { strict?: boolean } = {},
): Record<string, string> {
  const { tensors, metadata } = decodeSafetensors(bytes);
  const dict: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (!isInt64(t)) {
      dict[name] = t;
      continue;
    }
    const data = new Float64Array(t.data.length);
    for (let i = 0; i < data.length; i++) {
      const v = t.data[i];
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
        fail("loadSafetensors", `${shown(name)} holds ${v}, beyond the 2^53 a float64 buffer holds exactly`);
      }
      data[i] = Number(v);
    }
    dict[name] = fromTypedArray(data, t.shape);
  }
  module.loadStateDict(dict, opts);
  return metadata;
}
