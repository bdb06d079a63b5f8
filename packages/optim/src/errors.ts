/**
 * Thrown for an invalid optimizer/scheduler argument or a malformed state dict. `argument` names the offending
 * option or state-dict field so callers (and the runner's config validation) can point at it.
 */
export class OptimError extends Error {
  readonly argument: string;
  constructor(owner: string, argument: string, expected: string, got: unknown) {
    super(`${owner}: ${argument} must be ${expected}, got ${describe(got)}`);
    this.name = "OptimError";
    this.argument = argument;
  }
}

function describe(value: unknown): string {
  if (typeof value === "number") return Number.isNaN(value) ? "NaN" : String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value))
    return value.length > 8 ? `an array of length ${value.length}` : JSON.stringify(value);
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  return String(value);
}

/** Checks shared by optimizers and schedulers; each throws OptimError naming `argument`. */
export function requireFiniteNumber(owner: string, argument: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new OptimError(owner, argument, "a finite number", value);
  }
  return value;
}

export function requireNonNegative(owner: string, argument: string, value: unknown): number {
  const v = requireFiniteNumber(owner, argument, value);
  if (v < 0) throw new OptimError(owner, argument, "a finite number >= 0", v);
  return v;
}

/** lo <= value < hi (half-open, like torch's beta checks). */
export function requireInHalfOpen(
  owner: string,
  argument: string,
  value: unknown,
  lo: number,
  hi: number,
): number {
  const v = requireFiniteNumber(owner, argument, value);
  if (!(v >= lo && v < hi)) throw new OptimError(owner, argument, `in [${lo}, ${hi})`, v);
  return v;
}

export function requireInClosed(
  owner: string,
  argument: string,
  value: unknown,
  lo: number,
  hi: number,
): number {
  const v = requireFiniteNumber(owner, argument, value);
  if (!(v >= lo && v <= hi)) throw new OptimError(owner, argument, `in [${lo}, ${hi}]`, v);
  return v;
}

export function requirePositiveInteger(owner: string, argument: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new OptimError(owner, argument, "a positive integer", value);
  }
  return value;
}

export function requireBoolean(owner: string, argument: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw new OptimError(owner, argument, "a boolean", value);
  return value;
}
