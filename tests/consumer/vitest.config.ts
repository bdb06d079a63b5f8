import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    // Yields to the event loop before each test (see the file): keeps the worker RPC alive under load.
    setupFiles: ["../../scripts/vitest-setup.mjs"],
    // Packing nine packages, an npm install and training runs on a shared 2-core machine.
    testTimeout: 1_200_000,
    hookTimeout: 1_200_000,
    teardownTimeout: 60_000,
  },
});
