/**
 * @nabla/ndarray reads its NABLA_* settings in a browser from globalThis.NABLA_ENV (there is no process.env);
 * they must be set before the first GEMM creates the WebAssembly kernel.
 */
export function setNablaEnv(env: Record<string, string>): void {
  (globalThis as { NABLA_ENV?: Record<string, string> }).NABLA_ENV = env;
}
