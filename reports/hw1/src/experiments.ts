/**
 * Runs the homework's experiments folder into results/ through the runner's experiments driver, with the
 * homework's tasks registered: `node dist/experiments.js [--force] [--only a,b] [--out DIR] [--workers N]`
 * (turbo's `experiments` task runs it without flags). Everything else is `nabla experiments`'s.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { runCli } from "@nabla/runner";
import "./tasks.js";
import { HW1_ROOT } from "./render.js";

export const HW1_EXPERIMENTS_DIR = join(HW1_ROOT, "experiments");
export const HW1_RESULTS_DIR = join(HW1_ROOT, "results");

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const args = process.argv.slice(2);
  const hasOut = args.some((a) => a === "--out" || a === "-o" || a.startsWith("--out="));
  runCli(["experiments", HW1_EXPERIMENTS_DIR, ...(hasOut ? [] : ["--out", HW1_RESULTS_DIR]), ...args]).then(
    (code) => process.exit(code),
  );
}
