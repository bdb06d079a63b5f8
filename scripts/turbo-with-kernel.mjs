#!/usr/bin/env node
// Runs turbo with NABLA_GEMM_KERNEL set to this machine's GEMM kernel and instruction set (what the runner's
// cache key names, from gemmKernelInfo() of @nabla/ndarray). turbo.json hashes the variable into the
// experiments task, so a remote cache never hands results computed by one kernel to a machine with another:
// kernels for different instruction sets round differently.
//   node scripts/turbo-with-kernel.mjs run report [turbo flags]
//   node scripts/turbo-with-kernel.mjs --print        prints the kernel, e.g. auto:native/avx512
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { constants } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const turbo = createRequire(join(root, "package.json")).resolve("turbo/bin/turbo");
const ndarray = join(root, "packages/ndarray/dist/index.js");
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: "1" };

if (!existsSync(ndarray)) {
  // A fresh clone: the kernel is only known once @nabla/ndarray is built (a remote cache hit, usually).
  const built = spawnSync(
    process.execPath,
    [turbo, "run", "build", "--filter=@nabla/ndarray", "--output-logs=errors-only"],
    { cwd: root, env, stdio: ["ignore", "inherit", "inherit"] },
  );
  if (built.status !== 0) process.exit(built.status ?? 1);
}
const { gemmKernelInfo } = await import(pathToFileURL(ndarray).href);
const info = gemmKernelInfo();
const kernel = `${info.kernel}/${info.isa}`;

const args = process.argv.slice(2);
if (args[0] === "--print") {
  process.stdout.write(`${kernel}\n`);
  process.exit(0);
}
const child = spawn(process.execPath, [turbo, ...args], {
  cwd: process.cwd(),
  env: { ...env, NABLA_GEMM_KERNEL: kernel },
  stdio: "inherit",
});
// Ctrl-C reaches turbo too (same process group); this process only waits for it to finish.
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => {});
child.on("exit", (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
