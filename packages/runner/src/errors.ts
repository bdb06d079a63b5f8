/**
 * A mistake of the user (bad spec, missing file, bad flag): the CLI prints its one-line message and exits
 * non-zero without a stack trace. Anything else is a bug and keeps its stack.
 */
export class UserError extends Error {
  override name = "UserError";
}

/** The command line itself is wrong (unknown option or command, missing argument, bad flag value): exit 2. */
export class UsageError extends UserError {
  override name = "UsageError";
}

/** An experiment spec that does not validate; the message names the file, the field path and what was expected. */
export class SpecError extends UserError {
  override name = "SpecError";
}

/** A results file that is missing, unreadable or does not match the results schema. */
export class ResultsError extends UserError {
  override name = "ResultsError";
}

/** The run was stopped on purpose (Ctrl-C, or an AbortSignal); nothing was written for it. */
export class CancelledError extends Error {
  override name = "CancelledError";
  constructor(message = "cancelled") {
    super(message);
  }
}

/** Errors a user can fix (ours, and @nabla/cifar's data errors): shown as one line, without a stack. */
export function isUserFacing(err: unknown): err is Error {
  return err instanceof UserError || (err instanceof Error && err.name === "CifarDataError");
}
