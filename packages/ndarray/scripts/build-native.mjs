// Builds the optional native addon (native/gemm.cc GEMM, native/elementwise.cc large-array kernels,
// native/conv.cc convolutions) into dist/native/nabla_gemm.node with the machine's C++ compiler against
// Node's own headers. It runs as the package's `install` script, so the addon is always built on the machine
// that loads it (the tarball ships sources, never a binary), and as part of `build`. node-gyp would do the
// same compile but downloads headers from nodejs.org, so the compiler is invoked directly. The addon picks
// AVX-512/AVX2/scalar at run time, so it is compiled for baseline x86-64. Any failure (no compiler, no
// headers, not x86-64, NABLA_NO_NATIVE=1) is not an error: the reason goes to dist/native/build-error.txt,
// the WebAssembly kernels are used instead, and the first large GEMM says so on stderr. An addon built from
// the same sources, compiler and Node is kept.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = join(root, "dist", "native");
const target = join(outDir, "nabla_gemm.node");
const errorFile = join(outDir, "build-error.txt");
const stampFile = join(outDir, "build-stamp.txt");
mkdirSync(outDir, { recursive: true });
rmSync(errorFile, { force: true });

function giveUp(reason) {
  rmSync(target, { force: true });
  rmSync(stampFile, { force: true });
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
const sources = [
  "gemm.cc",
  "elementwise.cc",
  "conv.cc",
  "conv-kernels.h",
  "kernels.h",
  "pack.h",
  "pool.h",
].map((f) => join(root, "native", f));
const hash = createHash("sha256");
for (const file of sources) hash.update(readFileSync(file));
hash.update(`${cxx}\n${headers}\n${process.platform}-${process.arch}\n${process.versions.napi}`);
const stamp = hash.digest("hex");
if (existsSync(target) && existsSync(stampFile) && readFileSync(stampFile, "utf8").trim() === stamp) {
  console.log(`native gemm addon up to date: ${target}`);
  process.exit(0);
}
rmSync(stampFile, { force: true });
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
      join(root, "native", "conv.cc"),
      "-o",
      tmp,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  renameSync(tmp, target);
  writeFileSync(stampFile, `${stamp}\n`);
  console.log(`native gemm addon: ${target}`);
} catch (e) {
  rmSync(tmp, { force: true });
  if (e.code === "ENOENT") giveUp(`no C++ compiler: "${cxx}" not found (install g++ or clang++, or set CXX)`);
  const detail =
    String(e.stderr || e.message)
      .split("\n")
      .find((l) => l.trim()) ?? "unknown error";
  giveUp(`${cxx} failed: ${detail}`);
}
