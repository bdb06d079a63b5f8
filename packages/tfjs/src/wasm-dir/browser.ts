/**
 * A browser (and any bundle for one): beside the page, "./" resolved against the document or worker URL, so a
 * site that serves tfjs-backend-wasm's dist/*.wasm next to its bundle needs no setup; elsewhere call
 * setWasmBinaryDir with their URL.
 */
export function defaultWasmBinaryDir(): string {
  return "./";
}
