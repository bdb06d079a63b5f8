/**
 * Sweep worker: runs the experiments the main thread sends, one at a time, and reports progress and results.
 * `{ type: "stop" }` aborts the current run at its next step (the loop yields to the event loop regularly).
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parentPort, workerData } from "node:worker_threads";
import { isUserFacing } from "./errors.js";
import { runExperiment } from "./experiment.js";
import type { ExperimentSpec } from "./spec.js";
import type { ToWorker } from "./sweep.js";

if (parentPort === null) throw new Error("worker.js must run in a worker thread");
const port = parentPort;
let controller = new AbortController();

async function run(spec: ExperimentSpec, resultsDir: string, force: boolean): Promise<void> {
  controller = new AbortController();
  try {
    const outcome = await runExperiment(spec, {
      resultsDir,
      force,
      signal: controller.signal,
      onProgress: (event) => port.postMessage({ type: "progress", event }),
    });
    port.postMessage({ type: "done", outcome });
  } catch (err) {
    const error = err as Error;
    port.postMessage({
      type: "error",
      name: spec.name,
      kind: error.name,
      user: isUserFacing(err),
      message: error.message,
      stack: error.stack,
    });
  }
}

/** The user's registration modules, imported once before the first run. */
const setup = (async () => {
  for (const module of (workerData?.modules as string[] | undefined) ?? []) {
    await import(module.startsWith("file:") ? module : pathToFileURL(resolve(module)).href);
  }
})();

port.on("message", (message: ToWorker) => {
  if (message.type === "stop") controller.abort();
  else
    void setup.then(
      () => run(message.spec, message.resultsDir, message.force),
      (err: Error) =>
        port.postMessage({
          type: "error",
          name: message.spec.name,
          kind: "UserError",
          user: true,
          message: `cannot import a registration module (${err.message.split("\n")[0]})`,
        }),
    );
});
