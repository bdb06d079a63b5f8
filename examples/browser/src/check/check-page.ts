/**
 * check.html: runs the losses check (?where=main|worker&threads=1|2&relaxed=0|1) and leaves the outcome in
 * window.nablaCheck for the Node side (puppeteer) to read.
 */
import { parseCheckRequest, runCheck } from "./run-check.js";

type Outcome = { state: "running" } | { state: "done"; result: unknown } | { state: "failed"; error: string };
const page = globalThis as unknown as { nablaCheck: Outcome };
page.nablaCheck = { state: "running" };

const status = document.getElementById("status") as HTMLElement;
const finish = (outcome: Outcome) => {
  page.nablaCheck = outcome;
  status.textContent = outcome.state === "failed" ? `failed: ${outcome.error}` : "done";
};
const fail = (error: unknown) =>
  finish({ state: "failed", error: error instanceof Error ? (error.stack ?? error.message) : String(error) });

function inWorker(): Promise<unknown> {
  const worker = new Worker(new URL("./check-worker.js", import.meta.url), { type: "module" });
  return new Promise((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<{ result?: unknown; error?: string }>) => {
      worker.terminate();
      if (event.data.error !== undefined) reject(new Error(event.data.error));
      else resolve(event.data.result);
    };
    worker.onerror = (event) => reject(new Error(`check worker: ${event.message}`));
    worker.postMessage(parseCheckRequest(location.search));
  });
}

async function main(): Promise<unknown> {
  const params = new URLSearchParams(location.search);
  if (params.get("where") === "worker") return inWorker();
  return runCheck(parseCheckRequest(location.search));
}

main().then((result) => finish({ state: "done", result }), fail);
