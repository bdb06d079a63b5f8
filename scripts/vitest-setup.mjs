// Shared by every package's vitest.config.ts. vitest runs the synchronous tests of one file back to back
// without returning to the event loop, so the worker never reads the replies to its "onTaskUpdate" calls;
// its RPC timeout (60 s, not configurable) is a timer, and Node runs expired timers before reading I/O.
// On a loaded machine a file of CPU-bound tests (ndarray's gemm) then passes every test and still fails
// with `[vitest-worker]: Timeout calling "onTaskUpdate"`. One macrotask turn before each test lets the
// replies in, so only a single test longer than 60 s could trip it.
import { beforeEach } from "vitest";

// Captured before any test file runs, so a test that fakes timers cannot stall this hook.
const realSetImmediate = globalThis.setImmediate;

beforeEach(() => new Promise((resolve) => realSetImmediate(resolve)));
