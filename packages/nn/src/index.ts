/** @nabla/nn — public API (filled in by its issue). */
export const packageName = "@nabla/nn";
