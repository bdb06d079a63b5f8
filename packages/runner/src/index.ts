/** @nabla/runner — public API (filled in by its issue). */
export const packageName = "@nabla/runner";
