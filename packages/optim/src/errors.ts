import type { z } from "zod";

/**
 * Thrown for an invalid optimizer/scheduler argument or config, or a malformed state dict. The message is one
 * line, `<owner>: <field>: expected ..., got ...`; `argument` is the field's path so callers can point at it.
 */
export class OptimError extends Error {
  /** Marks a mistake a user can fix: a CLI prints its one-line message without a stack (see @nabla/runner). */
  readonly userFacing = true;
  readonly argument: string;
  constructor(message: string, argument: string) {
    super(message);
    this.name = "OptimError";
    this.argument = argument;
  }
}

/** `owner: argument: expected <expected>, got <got>`. */
export function optimError(owner: string, argument: string, expected: string, got: unknown): OptimError {
  return new OptimError(`${owner}: ${argument}: expected ${expected}, got ${describe(got)}`, argument);
}

export function describe(value: unknown): string {
  if (typeof value === "number") return Number.isNaN(value) ? "NaN" : String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value))
    return value.length > 8 ? `an array of length ${value.length}` : JSON.stringify(value);
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (typeof value === "object") return "an object";
  return String(value);
}

/** Joins a zod path as `a.b[0].c`; the one path format of every package's validation messages. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

const TYPE_NAMES: Record<string, string> = {
  int: "an integer",
  number: "a number",
  string: "a string",
  boolean: "true or false",
  array: "an array",
  object: "an object",
  tuple: "an array",
};

/** A zod type name (an invalid_type issue's `expected`) in words: "int" → "an integer". */
export function zodTypeName(expected: string): string {
  return TYPE_NAMES[expected] ?? expected;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const key of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

/**
 * One zod issue as `{ path, text }` where text is "expected ..., got ...". A schema's own message is used when it
 * starts with "expected" (the convention of this package's schemas); otherwise one is derived from the issue code.
 */
function describeIssue(issue: z.core.$ZodIssue, root: unknown): { path: PropertyKey[]; text: string } {
  const path = issue.path.slice();
  if (issue.code === "unrecognized_keys") {
    path.push(issue.keys[0]);
    const more = issue.keys.length > 1 ? ` (also ${issue.keys.slice(1).join(", ")})` : "";
    return { path, text: `unknown field (remove it or check its spelling)${more}` };
  }
  const got = valueAt(root, path);
  // refinements that describe the offending values themselves say so with ", got"
  if (issue.code === "custom" && issue.message.includes(", got ")) return { path, text: issue.message };
  let what: string;
  if (issue.message.startsWith("expected")) what = issue.message;
  else if (issue.code === "invalid_type") {
    const finite = issue.expected === "number" && typeof got === "number";
    what = `expected ${finite ? "a finite number" : zodTypeName(issue.expected)}`;
  } else if (issue.code === "too_small" || issue.code === "too_big") {
    const bound = issue.code === "too_small" ? issue.minimum : issue.maximum;
    const op = issue.code === "too_small" ? (issue.inclusive ? ">=" : ">") : issue.inclusive ? "<=" : "<";
    if (issue.origin === "array") {
      const least = issue.code === "too_small" ? "at least" : "at most";
      what = `expected ${least} ${String(bound)} item${Number(bound) === 1 ? "" : "s"}`;
    } else what = `expected a number ${op} ${String(bound)}`;
  } else if (issue.code === "invalid_value") {
    what = `expected ${issue.values.map((v) => JSON.stringify(v)).join(" or ")}`;
  } else what = issue.message.replace(/^Invalid input: /, "");
  return { path, text: `${what}, got ${describe(got)}` };
}

/**
 * Formats a failed parse as one OptimError: `<owner>: <prefix><path>: expected ..., got ...`, naming the first
 * problem (and how many more there are). `prefix` is the field path of `input` in the caller's document.
 */
export function zodToOptimError(
  owner: string | undefined,
  prefix: string,
  error: z.ZodError,
  input: unknown,
): OptimError {
  const { path, text } = describeIssue(error.issues[0], input);
  const inner = formatPath(path);
  const argument = prefix === "" ? inner || "options" : inner === "" ? prefix : joinPath(prefix, inner);
  const n = error.issues.length - 1;
  const more = n > 0 ? ` (and ${n} more problem${n > 1 ? "s" : ""})` : "";
  const message = `${owner === undefined ? "" : `${owner}: `}${argument}: ${text}${more}`;
  return new OptimError(message, argument);
}

function joinPath(prefix: string, inner: string): string {
  return inner.startsWith("[") ? `${prefix}${inner}` : `${prefix}.${inner}`;
}

/** Parses `input` with `schema`, throwing the formatted OptimError; the one validation path of every class. */
export function parseWith<S extends z.ZodType>(
  owner: string | undefined,
  prefix: string,
  schema: S,
  input: unknown,
): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw zodToOptimError(owner, prefix, result.error, input);
  return result.data;
}
