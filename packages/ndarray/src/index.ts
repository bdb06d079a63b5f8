/** @nabla/ndarray — public API (filled in by its issue). */
export const packageName = "@nabla/ndarray";
