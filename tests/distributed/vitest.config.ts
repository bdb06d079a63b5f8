import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Yields to the event loop before each test (see the file): keeps the worker RPC alive under load.
    setupFiles: ["../../scripts/vitest-setup.mjs"],
    // Generous because a shared 2-core CI machine can be several times slower than an idle one.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
  },
});
