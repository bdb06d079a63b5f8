// The whole suite, uncached, while two CPU-bound processes compete for the cores: on a shared 2-core CI
// machine vitest's worker RPC once timed out ("Timeout calling onTaskUpdate") under exactly this load, so
// the suite must be shown to pass here, not only on an idle machine.
// `node scripts/test-under-load.mjs [--burners N] [extra turbo args…]`; exits with the suite's status.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
let burnerCount = 2;
const at = args.indexOf("--burners");
if (at >= 0) {
  burnerCount = Number(args[at + 1]);
  if (!Number.isInteger(burnerCount) || burnerCount < 0) {
    console.error(`test-under-load: --burners expects a whole number, got "${args[at + 1]}"`);
    process.exit(2);
  }
  args.splice(at, 2);
}

const burners = Array.from({ length: burnerCount }, () =>
  spawn(process.execPath, ["-e", "for(;;){}"], { stdio: "ignore" }),
);
let suite;

function stopAll(signal) {
  for (const b of burners) if (b.exitCode === null && b.signalCode === null) b.kill("SIGKILL");
  if (suite && suite.exitCode === null && suite.signalCode === null) suite.kill(signal);
}
// Burners must never outlive this script: they would keep loading the machine unseen.
process.on("exit", () => stopAll("SIGTERM"));
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    stopAll(signal);
    console.error(`test-under-load: stopped by ${signal}`);
    process.exit(130);
  });
}

const turbo = join(root, "node_modules", ".bin", "turbo");
// --continue: one failing task must not hide how the rest of the suite fares under load.
const turboArgs = ["run", "lint", "//#lint:root", "typecheck", "test", "--force", "--continue", ...args];
console.log(`test-under-load: ${burnerCount} busy-loop processes; turbo ${turboArgs.join(" ")}`);
const started = performance.now();
suite = spawn(turbo, turboArgs, {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" },
});
suite.on("error", (error) => {
  console.error(`test-under-load: could not start ${turbo}: ${error.message}`);
  process.exit(2);
});
suite.on("exit", (code, signal) => {
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const status = code ?? 1;
  console.log(
    `test-under-load: wall time ${seconds} s under ${burnerCount} busy processes; exit status ${status}${signal ? ` (${signal})` : ""}`,
  );
  process.exit(status);
});
