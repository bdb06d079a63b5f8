// Builds the optional native addon (native/gemm.cc GEMM + native/elementwise.cc large-array kernels) into dist/native/nabla_gemm.node with the machine's
// g++ against Node's own headers. node-gyp would do the same compile but downloads headers from nodejs.org,
// which is not reachable here, so the compiler is invoked directly. The addon picks AVX-512/AVX2/scalar at run
// time, so it is compiled for baseline x86-64. Any failure (no compiler, no headers, NABLA_NO_NATIVE=1) is not
// an error: the reason goes to dist/native/build-error.txt and the WebAssembly kernels are used instead.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = join(root, "dist", "native");
const target = join(outDir, "nabla_gemm.node");
const errorFile = join(outDir, "build-error.txt");
mkdirSync(outDir, { recursive: true });
rmSync(errorFile, { force: true });

function giveUp(reason) {
  rmSync(target, { force: true });
  writeFileSync(errorFile, `${reason}\n`);
  console.log(`native gemm addon not built (WebAssembly kernels will be used): ${reason}`);
  process.exit(0);
}

if (process.env.NABLA_NO_NATIVE === "1") giveUp("NABLA_NO_NATIVE=1");
if (process.arch !== "x64")
  giveUp(`unsupported architecture ${process.arch} (the kernels use x86 intrinsics)`);
const headerDirs = [
  join(dirname(process.execPath), "..", "include", "node"),
  "/usr/include/node",
  "/usr/local/include/node",
];
const headers = headerDirs.find((d) => existsSync(join(d, "node_api.h")));
if (!headers) giveUp(`node_api.h not found in ${headerDirs.join(", ")}`);
const cxx = process.env.CXX || "g++";
const tmp = `${target}.tmp`;
try {
  execFileSync(
    cxx,
    [
      "-O3",
      "-std=c++17",
      "-shared",
      "-fPIC",
      "-pthread",
      "-ffp-contract=off",
      "-DNODE_GYP_MODULE_NAME=nabla_gemm",
      `-I${headers}`,
      join(root, "native", "gemm.cc"),
      join(root, "native", "elementwise.cc"),
      "-o",
      tmp,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  renameSync(tmp, target);
  console.log(`native gemm addon: ${target}`);
} catch (e) {
  rmSync(tmp, { force: true });
  const detail =
    String(e.stderr || e.message)
      .split("\n")
      .find((l) => l.trim()) ?? "unknown error";
  giveUp(`${cxx} failed: ${detail}`);
}
