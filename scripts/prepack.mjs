// prepack of every package: `pnpm pack` of a clone that was never built would otherwise ship no dist/ while
// `main` points there. The build starts from an empty dist/ because tsc never deletes the output of a source
// that was removed, and such a file would be published. NABLA_PACK_BUILT=1 skips it for callers that run after
// turbo's own `build` (check:package, the consumer test), which then check the tarball for stale files.
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";

if (process.env.NABLA_PACK_BUILT !== "1") {
  rmSync("dist", { recursive: true, force: true });
  execFileSync("pnpm", ["run", "build"], { stdio: "inherit" });
}
