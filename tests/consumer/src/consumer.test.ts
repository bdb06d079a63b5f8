// A new user's install, end to end: every publishable package is packed as `pnpm publish` would pack it, the
// tarballs are installed with npm into a fresh project (registry dependencies from npm's cache when it has
// them), a strict TypeScript file using every package compiles against them without skipLibCheck and without
// @types/node, and every ```ts example of the packages' READMEs compiles and runs there.
import { execFile, execFileSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { readmeExamples } from "./examples.js";

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

function hasNpm(): boolean {
  try {
    execFileSync("npm", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** npm reads npm_config_* as its own settings: the ones pnpm sets for this test's script must not leak in. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.toLowerCase().startsWith("npm_")) env[key] = value;
  }
  return env;
}

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(file, "utf8"));
}

const versionOf = (name: string) =>
  readJson(join(root, "node_modules", name, "package.json")).version as string;

const publishable = readdirSync(join(root, "packages"))
  .filter((dir) => existsSync(join(root, "packages", dir, "package.json")))
  .filter((dir) => readJson(join(root, "packages", dir, "package.json")).private !== true)
  .sort();

const examples = readmeExamples(root);

async function sh(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = cleanEnv()) {
  try {
    return await run(command, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(
      `${command} ${args.join(" ")} (in ${cwd}) failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`,
    );
  }
}

/** An install that can be served from npm's cache is tried offline first; a cold cache goes to the registry. */
async function npmInstall(cwd: string, args: string[]) {
  const common = ["install", "--no-audit", "--no-fund", "--loglevel=error", ...args];
  try {
    await sh("npm", [...common, "--offline"], cwd);
  } catch {
    await sh("npm", [...common, "--prefer-offline"], cwd);
  }
}

const strictOptions = {
  strict: true,
  skipLibCheck: false,
  module: "NodeNext",
  moduleResolution: "NodeNext",
  target: "ES2022",
  noEmit: true,
  // No global type packages: a .d.ts that needs Node's types must bring them itself.
  types: [],
};

describe.skipIf(!hasNpm())("the packed packages in a fresh npm project", () => {
  const work = mkdtempSync(join(tmpdir(), "nabla-consumer-"));
  const tarballs = join(work, "tarballs");
  const project = join(work, "project");
  const tsc = (config: string) =>
    sh(process.execPath, [join(project, "node_modules/typescript/bin/tsc"), "-p", config], project);

  beforeAll(async () => {
    mkdirSync(tarballs, { recursive: true });
    mkdirSync(project, { recursive: true });
    // turbo's `build` ran before this test (dependsOn ^build), so prepack need not build again.
    for (const dir of publishable) {
      await sh("pnpm", ["pack", "--pack-destination", tarballs], join(root, "packages", dir), {
        ...process.env,
        NABLA_PACK_BUILT: "1",
      });
    }
    const files: Record<string, string> = {};
    for (const file of readdirSync(tarballs)) {
      const manifest = JSON.parse(
        execFileSync("tar", ["-xzOf", join(tarballs, file), "package/package.json"], { encoding: "utf8" }),
      );
      files[manifest.name] = `file:../tarballs/${file}`;
    }
    writeFileSync(
      join(project, "package.json"),
      `${JSON.stringify(
        {
          name: "nabla-consumer",
          private: true,
          type: "module",
          dependencies: { ...files, typescript: versionOf("typescript") },
          // The packages depend on each other by version; this resolves those to the tarballs, not a registry.
          overrides: files,
        },
        null,
        2,
      )}\n`,
    );
    await npmInstall(project, []);
  });

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test("every package was packed and installed, its workspace: ranges replaced by versions", () => {
    expect(readdirSync(tarballs)).toHaveLength(publishable.length);
    for (const dir of publishable) {
      const name = readJson(join(root, "packages", dir, "package.json")).name as string;
      const installed = readJson(join(project, "node_modules", name, "package.json"));
      expect(JSON.stringify(installed)).not.toContain("workspace:");
      expect(existsSync(join(project, "node_modules", name, "LICENSE"))).toBe(true);
      expect(existsSync(join(project, "node_modules", name, "dist", "index.d.ts"))).toBe(true);
    }
  });

  test("no published declaration file refers to Node's types", () => {
    // Checked textually as well: a dependency of a dependency may install @types/node, and a .d.ts that
    // referred to it would then compile here only by that accident.
    const nodeTypes = /NodeJS\.|from "node:|import\("node:|reference types="node"/;
    const offenders: string[] = [];
    const visit = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) visit(path);
        else if (entry.name.endsWith(".d.ts") && nodeTypes.test(readFileSync(path, "utf8")))
          offenders.push(path);
      }
    };
    visit(join(project, "node_modules", "@nabla"));
    expect(offenders).toEqual([]);
  });

  test("a strict TypeScript consumer compiles without skipLibCheck and without @types/node", async () => {
    cpSync(join(root, "tests/consumer/src/consumer-api.ts"), join(project, "api.ts"));
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({ compilerOptions: strictOptions, files: ["api.ts"] }, null, 2),
    );
    await tsc("tsconfig.json");
  });

  test("the nabla CLI is installed as a bin", async () => {
    const { stdout } = await sh(join(project, "node_modules/.bin/nabla"), ["--version"], project);
    expect(stdout).toMatch(/^nabla \d+\.\d+\.\d+/);
  });

  describe("the native kernel", () => {
    const kernelScript = `
      import { gemm, gemmKernelInfo, zeros } from "@nabla/ndarray";
      const a = zeros([256, 256]);
      gemm(false, false, 1, a, a, 0, zeros([256, 256]));
      gemm(false, false, 1, a, a, 0, zeros([256, 256]));
      console.log(JSON.stringify(gemmKernelInfo()));
    `;
    const runKernelScript = async (env: NodeJS.ProcessEnv = {}) => {
      writeFileSync(join(project, "kernel.mjs"), kernelScript);
      const { stdout, stderr } = await sh(process.execPath, ["kernel.mjs"], project, {
        ...cleanEnv(),
        ...env,
      });
      return { info: JSON.parse(stdout.trim()), stderr };
    };
    const hasCompiler = (() => {
      try {
        execFileSync(process.env.CXX || "g++", ["--version"], { stdio: "ignore" });
        return true;
      } catch {
        return false;
      }
    })();

    test("the tarball ships its C++ sources and no binary", () => {
      const tarball = readdirSync(tarballs).find((f) => f.startsWith("nabla-ndarray-"))!;
      const list = execFileSync("tar", ["-tzf", join(tarballs, tarball)], { encoding: "utf8" }).split("\n");
      expect(list.filter((f) => f.endsWith(".node"))).toEqual([]);
      expect(list).toContain("package/native/gemm.cc");
    });

    test.skipIf(!hasCompiler)("npm built it at install on this machine, and it runs silently", async () => {
      const { info, stderr } = await runKernelScript();
      expect(info.kernel).toBe("auto:native");
      expect(stderr).toBe("");
    });

    test("without a C++ compiler the install succeeds and the first large GEMM says which kernel runs", async () => {
      await sh("npm", ["rebuild", "@nabla/ndarray", "--loglevel=error"], project, {
        ...cleanEnv(),
        CXX: "/nonexistent/c++",
      });
      try {
        const { info, stderr } = await runKernelScript();
        expect(info.kernel).toBe("auto:parallel");
        const lines = stderr.trim().split("\n");
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(
          /^@nabla\/ndarray: GEMM runs on parallel \(wasm-simd128, 2 threads\) because /,
        );
        expect(lines[0]).toContain('no C++ compiler: "/nonexistent/c++" not found');
        expect(lines[0]).toContain("build-native.mjs");
        expect((await runKernelScript({ NABLA_KERNEL_NOTICE: "0" })).stderr).toBe("");
      } finally {
        await sh("npm", ["rebuild", "@nabla/ndarray", "--loglevel=error"], project);
      }
      if (hasCompiler) expect((await runKernelScript()).info.kernel).toBe("auto:native");
    });
  });

  describe("README examples", () => {
    beforeAll(async () => {
      // The examples are Node programs (they read files, use Buffer): their own code needs Node's types.
      await npmInstall(project, [`@types/node@${versionOf("@types/node")}`]);
      mkdirSync(join(project, "examples"), { recursive: true });
      for (const e of examples) writeFileSync(join(project, "examples", `${e.id}.ts`), e.source);
      writeFileSync(
        join(project, "tsconfig.examples.json"),
        JSON.stringify(
          {
            compilerOptions: {
              ...strictOptions,
              types: ["node"],
              noEmit: false,
              rootDir: "examples",
              outDir: "out",
            },
            include: ["examples"],
          },
          null,
          2,
        ),
      );
      await tsc("tsconfig.examples.json");
    });

    test.each(examples.map((e) => [e.id, e] as const))("%s runs", async (_id, example) => {
      const cwd = join(work, "run", example.id);
      mkdirSync(cwd, { recursive: true });
      for (const [file, text] of Object.entries(example.files)) {
        mkdirSync(dirname(join(cwd, file)), { recursive: true });
        writeFileSync(join(cwd, file), text);
      }
      await sh(process.execPath, [join(project, "out", `${example.id}.js`)], cwd);
    });
  });
});
