/** @nabla/optim — public API (filled in by its issue). */
export const packageName = "@nabla/optim";
