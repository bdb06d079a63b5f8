/**
 * Every data problem surfaces as a CifarDataError whose message is one line naming the file (or URL, or
 * folder) and what was expected, e.g.
 * `/data/data_batch_3.bin: truncated: 1,000 bytes, expected 30,730,000 (10,000 records of 3,073 bytes)`.
 */
export class CifarDataError extends Error {
  /** Marks a mistake a user can fix: a CLI prints its one-line message without a stack (see @nabla/runner). */
  readonly userFacing = true;
  /** The file, folder or URL the problem is about. */
  readonly file: string;
  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super(`${file}: ${problem}`.replace(/\s*\n\s*/g, " "), options);
    this.name = "CifarDataError";
    this.file = file;
  }
}

/** Short one-line text of any thrown value. */
export function describeError(error: unknown): string {
  if (error instanceof CifarDataError) return error.message;
  if (error instanceof Error) {
    const cause = error.cause as { code?: string; message?: string } | undefined;
    const detail = typeof cause?.code === "string" ? cause.code : cause?.message;
    const text = detail && !error.message.includes(detail) ? `${error.message} (${detail})` : error.message;
    return text.replace(/\s*\n\s*/g, " ");
  }
  return String(error);
}

/** 30730000 -> "30,730,000" (locale-independent). */
export function formatCount(n: number): string {
  return String(Math.trunc(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}
