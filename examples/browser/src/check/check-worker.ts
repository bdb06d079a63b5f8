/** The losses check in a dedicated Web Worker (where Atomics.wait is allowed), as the example trains. */
import { type CheckRequest, runCheck } from "./run-check.js";

const scope = globalThis as unknown as {
  onmessage: ((event: { data: CheckRequest }) => void) | null;
  postMessage(message: unknown): void;
};

scope.onmessage = (event) => {
  runCheck(event.data).then(
    (result) => scope.postMessage({ result }),
    (error: unknown) => scope.postMessage({ error: error instanceof Error ? error.stack : String(error) }),
  );
};
