/** Raised for bad input to @nabla/tfjs; the message names the function/field and what was expected. */
export class TfjsMlpError extends Error {
  /** Marks a mistake a user can fix: a CLI prints its one-line message without a stack (see @nabla/runner). */
  readonly userFacing = true;
  constructor(message: string) {
    super(message);
    this.name = "TfjsMlpError";
  }
}
