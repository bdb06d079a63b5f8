import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { canonicalJson } from "./canonical.js";
import { UserError } from "./errors.js";
import type { Environment } from "./results.js";
import { RESULTS_SCHEMA_VERSION } from "./results.js";
import type { ExperimentSpec } from "./spec.js";

export { canonicalJson };

/** The packages whose code decides the numbers in a results file. */
const SHAPING_PACKAGES = [
  "@nabla/ndarray",
  "@nabla/nn",
  "@nabla/optim",
  "@nabla/data",
  "@nabla/cifar",
] as const;
const TFJS_PACKAGES = ["@nabla/tfjs", "@tensorflow/tfjs-core", "@tensorflow/tfjs-backend-wasm"] as const;

/**
 * This package's own modules that decide the numbers (the loop, models, optimizers, data order, spec
 * defaults). The CLI, progress output and sweep plumbing are left out: editing a help text must not rerun
 * hours of experiments.
 */
const RUNNER_SHAPING_MODULES = [
  "checkpoint.js",
  "data.js",
  "datasets.js",
  "experiment.js",
  "models.js",
  "spec.js",
  "train.js",
  "training-state.js",
];

const require = createRequire(import.meta.url);
const runnerRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

interface PackageFingerprint {
  version: string;
  /** sha-256 of the package's built code: versions are not bumped inside the monorepo, code is what counts. */
  code: string;
}

function packageRoot(name: string): string | undefined {
  if (name === "@nabla/runner") return runnerRoot;
  // TF.js is a dependency of @nabla/tfjs, not of this package: resolve it from there.
  const from = name.startsWith("@tensorflow/") ? packageRoot("@nabla/tfjs") : undefined;
  const resolver = from === undefined ? require : createRequire(join(from, "package.json"));
  try {
    return dirname(resolver.resolve(`${name}/package.json`));
  } catch {
    return undefined;
  }
}

function listCodeFiles(dir: string, out: string[]): void {
  let entries: import("node:fs").Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== "node_modules") listCodeFiles(path, out);
    } else if (/\.(js|mjs|cjs|wasm|node)$/.test(entry.name)) {
      out.push(path);
    }
  }
}

const fingerprints = new Map<string, PackageFingerprint | null>();

/**
 * sha-256 over the given files (paths relative to `root`, and bytes). A package with no built code is an
 * error, not an empty hash: a cache key over nothing would match results of any code.
 */
export function hashCodeFiles(name: string, root: string, files: string[]): string {
  const missing = files.filter((f) => !existsSync(f));
  if (files.length === 0 || missing.length > 0) {
    throw new UserError(
      `${name} is not built (${files.length === 0 ? `no code in ${join(root, "dist")}` : `missing ${missing[0]}`}): run pnpm build`,
    );
  }
  const hash = createHash("sha256");
  for (const file of [...files].sort()) {
    hash.update(file.slice(root.length));
    hash.update("\0");
    hash.update(readFileSync(file));
  }
  return hash.digest("hex");
}

/** The built code files of a workspace package (`dist/**`), or the runner's own shaping modules. */
export function codeFilesOf(name: string, root: string): string[] {
  if (name === "@nabla/runner") return RUNNER_SHAPING_MODULES.map((m) => join(root, "dist", m));
  const files: string[] = [];
  listCodeFiles(join(root, "dist"), files);
  return files;
}

/** Version and code hash of an installed package (null when it is not installed). Memoised per process. */
export function packageFingerprint(name: string): PackageFingerprint | null {
  const known = fingerprints.get(name);
  if (known !== undefined) return known;
  const root = packageRoot(name);
  let result: PackageFingerprint | null = null;
  if (root !== undefined) {
    const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version?: string };
    // Workspace packages: their built code counts (versions are not bumped inside the monorepo); third-party
    // packages are pinned by version.
    const code = name.startsWith("@nabla/") ? hashCodeFiles(name, root, codeFilesOf(name, root)) : "";
    result = { version: manifest.version ?? "0.0.0", code };
  }
  fingerprints.set(name, result);
  return result;
}

function packagesFor(spec: ExperimentSpec): string[] {
  return ["@nabla/runner", ...SHAPING_PACKAGES, ...(spec.model.kind === "mlp-tfjs" ? TFJS_PACKAGES : [])];
}

/** The part of a spec that shapes results: not its name, description or where the (verified) data sits. */
export function shapingSpec(spec: ExperimentSpec): unknown {
  const { name: _name, description: _description, data, ...rest } = spec;
  const { dir: _dir, ...dataRest } = data as typeof data & { dir?: string };
  return { ...rest, data: dataRest };
}

/**
 * The cache key of an experiment: sha-256 over the results schema version, the shaping part of the resolved
 * spec, the version and code hash of every package that shapes results, and the GEMM kernel in use.
 */
export function cacheKey(spec: ExperimentSpec, gemmKernel: string): string {
  const packages: Record<string, PackageFingerprint | null> = {};
  for (const name of packagesFor(spec)) packages[name] = packageFingerprint(name);
  const material = canonicalJson({
    schemaVersion: RESULTS_SCHEMA_VERSION,
    spec: shapingSpec(spec),
    packages,
    gemmKernel,
  });
  return createHash("sha256").update(material).digest("hex");
}

/** Environment block of a results file. */
export function describeEnvironment(
  spec: ExperimentSpec,
  gemm: Environment["gemm"],
  tfjsBackend?: string,
): Environment {
  const packages: Record<string, string> = {};
  for (const name of packagesFor(spec)) {
    const fp = packageFingerprint(name);
    if (fp !== null) packages[name] = fp.version;
  }
  const env: Environment = {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpu: cpus()[0]?.model.trim() ?? "unknown",
    gemm: { kernel: gemm.kernel, simd: gemm.simd, threads: gemm.threads },
    packages,
  };
  if (tfjsBackend !== undefined) env.tfjsBackend = tfjsBackend;
  return env;
}
