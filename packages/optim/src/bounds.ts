import { z } from "zod";

/**
 * The building blocks of every optimizer and scheduler schema, so one bound is spelled once. zod 4's z.number()
 * already rejects NaN and ±Infinity. Messages start with "expected" so they read as one line with the field path.
 */
export const lrSchema = z.number().min(0, "expected a number >= 0");
export const nonNegative = z.number().min(0, "expected a number >= 0");
export const unitClosed = z
  .number()
  .min(0, "expected a number in [0, 1]")
  .max(1, "expected a number in [0, 1]");
export const unitHalfOpen = z
  .number()
  .min(0, "expected a number in [0, 1)")
  .lt(1, "expected a number in [0, 1)");
export const positiveInt = z.number().int("expected an integer >= 1").min(1, "expected an integer >= 1");
export const nonNegativeInt = z.number().int("expected an integer >= 0").min(0, "expected an integer >= 0");

export function isNonDecreasing(values: readonly number[]): boolean {
  return values.every((v, i) => i === 0 || v >= values[i - 1]);
}

export function isStrictlyIncreasing(values: readonly number[]): boolean {
  return values.every((v, i) => i === 0 || v > values[i - 1]);
}

/** The fields of `state` that `schema` declares, so a state dict's hyperparameters parse with the options schema. */
export function pickFields(schema: { shape: Record<string, unknown> }, state: Record<string, unknown>) {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(schema.shape)) if (key in state) out[key] = state[key];
  return out;
}
