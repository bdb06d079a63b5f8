/**
 * Every error thrown by @nabla/nn on bad input. The message is one line naming the
 * module/function and the field, and says what was expected.
 */
export class NnError extends Error {
  /** Marks a mistake a user can fix: a CLI prints its one-line message without a stack (see @nabla/runner). */
  readonly userFacing = true;
  override name = "NnError";
}

/** Throws an NnError with `where: message` unless `condition` holds. */
export function check(condition: boolean, where: string, message: string): asserts condition {
  if (!condition) throw new NnError(`${where}: ${message}`);
}

/**
 * Throws an NnError with `where: message`. Hot paths call it as `if (!ok) fail(...)` so the
 * message (a template string) is only built when the check fails, not on every step.
 */
export function fail(where: string, message: string): never {
  throw new NnError(`${where}: ${message}`);
}
