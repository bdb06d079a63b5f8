/** Error thrown for bad arguments (wrong shape, dtype, range); the message names the function and what was expected. */
export class NdarrayError extends Error {
  override name = "NdarrayError";
}

/** Throws an NdarrayError prefixed with the calling function's name. */
export function fail(fn: string, message: string): never {
  throw new NdarrayError(`@nabla/ndarray ${fn}: ${message}`);
}
