import { createRequire } from "node:module";
import path from "node:path";

/** Node: the installed tfjs-backend-wasm's dist/ (its Node build does not find its .wasm files on its own). */
export function defaultWasmBinaryDir(): string {
  const require = createRequire(import.meta.url);
  return `${path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json"))}/dist/`;
}
