/**
 * Every problem with a dataset's arguments is a DataError whose message is one line naming the field and what
 * was expected, e.g. `arrayDataset: train.x: expected 2 × 784 = 1,568 values (labels × featureSize), got 1,500`.
 */
export class DataError extends Error {
  /** Marks a mistake a user can fix: a CLI prints its one-line message without a stack (see @nabla/runner). */
  readonly userFacing = true;
  /** The argument or field the problem is about, e.g. `train.labels` or `batchSize`. */
  readonly field: string;
  constructor(where: string, field: string, problem: string) {
    super(`${where}: ${field}: ${problem}`.replace(/\s*\n\s*/g, " "));
    this.name = "DataError";
    this.field = field;
  }
}

/** 30730000 -> "30,730,000" (locale-independent). */
export function formatCount(n: number): string {
  return String(Math.trunc(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

export function isPositiveInt(n: unknown): n is number {
  return typeof n === "number" && Number.isInteger(n) && n >= 1;
}

export function isNonNegativeInt(n: unknown): n is number {
  return typeof n === "number" && Number.isInteger(n) && n >= 0;
}
