/** Raised for bad input to @nabla/tfjs; the message names the function/field and what was expected. */
export class TfjsMlpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TfjsMlpError";
  }
}
