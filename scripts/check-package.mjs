// check:package of every publishable package (run in its folder): packs it as `pnpm publish` would, checks what
// the tarball holds, then runs publint (warnings are errors) and @arethetypeswrong/cli on the tarball itself.
// attw uses the esm-only profile: the packages are ESM only by design, so `require` from CommonJS is not
// offered and not reported.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { tarballProblems } from "./tarball.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const dir = mkdtempSync(join(tmpdir(), "nabla-check-package-"));
try {
  execFileSync("pnpm", ["pack", "--pack-destination", dir], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, NABLA_PACK_BUILT: "1" },
  });
  const [name] = readdirSync(dir).filter((f) => f.endsWith(".tgz"));
  const tarball = join(dir, name);
  const problems = tarballProblems(tarball);
  if (problems.length > 0) {
    console.error(`${name}:\n  ${problems.join("\n  ")}`);
    process.exit(1);
  }
  console.log(`${name}: contents ok`);
  execFileSync(bin("publint"), ["run", tarball, "--strict"], { stdio: "inherit" });
  execFileSync(bin("attw"), [tarball, "--profile", "esm-only", "--format", "ascii"], { stdio: "inherit" });
} catch (err) {
  if (err.status === undefined) throw err;
  process.exit(err.status);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
