/**
 * A mistake of the user (bad spec, missing file, bad flag): the CLI prints its one-line message and exits
 * non-zero without a stack trace. Anything else is a bug and keeps its stack.
 */
export class UserError extends Error {
  override name = "UserError";
  /** The convention every package's (and plug-in's) error class follows; see isUserFacing. */
  readonly userFacing = true;
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

/**
 * Errors a user can fix, shown as one line without a stack: any Error whose `userFacing` is `true`. Every
 * @nabla package's error class carries `readonly userFacing = true` (UserError, NnError, OptimError,
 * DataError, CifarDataError, TfjsMlpError, ReportError), and so can a plug-in's: no list of names to keep.
 */
export function isUserFacing(err: unknown): err is Error {
  return err instanceof Error && (err as { userFacing?: unknown }).userFacing === true;
}

/** How much of an untrusted value (a flag, a URL, a field of a job or a file) a message quotes. */
export const ECHO_CHARS = 200;

/**
 * Untrusted text as a message may quote it: control characters escaped (a message stays one line) and cut
 * to `max` characters with an ellipsis, so a 20 MB string from a file or the queue is not a 20 MB line.
 */
export function echo(value: unknown, max = ECHO_CHARS): string {
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping control characters is the point.
  return cut.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

/** The longest line an error prints: anything longer was built from input that `echo` did not cut. */
export const MAX_MESSAGE_CHARS = 2000;

/** A message as the CLI prints it: its first line, at most MAX_MESSAGE_CHARS characters. */
export function messageLine(message: string): string {
  const first = message.split("\n")[0];
  return first.length > MAX_MESSAGE_CHARS ? `${first.slice(0, MAX_MESSAGE_CHARS)}…` : first;
}
