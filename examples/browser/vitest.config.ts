import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // Yields to the event loop before each test (see the file): keeps the worker RPC alive under load.
    setupFiles: ["../../scripts/vitest-setup.mjs"],
    // Minutes, not seconds: Chromium trains a model here on a shared 2-core machine.
    testTimeout: 600_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
    // The browser files each start Chromium; one at a time leaves a core for its GEMM helper thread.
    fileParallelism: false,
  },
});
