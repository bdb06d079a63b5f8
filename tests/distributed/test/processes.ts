/** Child processes for the tests: start, read their output as it comes, await a line, stop them. */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
/**
 * The built `nabla` CLI (turbo's test task builds the runner first); NABLA_TEST_CLI runs the tests against
 * another build of it (an older commit's, to see a test fail without the change it covers).
 */
export const CLI =
  process.env.NABLA_TEST_CLI ??
  join(dirname(require.resolve("@nabla/runner/package.json")), "dist", "cli.js");
export const TURBO = require.resolve("turbo/bin/turbo");
export const REMOTE_CACHE = join(
  dirname(require.resolve("turborepo-remote-cache/package.json")),
  "dist",
  "cli.js",
);
/** The repository's root (for its scripts). */
export const ROOT = join(import.meta.dirname, "..", "..", "..");

export function tempDir(prefix = "nabla-dist-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}

export interface Proc {
  child: ChildProcess;
  /** Everything written so far (stdout and stderr interleaved). */
  output(): string;
  /** Resolves with the first line matching, already written or still to come; rejects when the process exits first. */
  line(pattern: RegExp): Promise<string>;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function start(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Proc {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  const waiters: { pattern: RegExp; resolve: (line: string) => void; reject: (err: Error) => void }[] = [];
  const scan = () => {
    const lines = text.split("\n");
    for (const w of [...waiters]) {
      const hit = lines.find((l) => w.pattern.test(l));
      if (hit !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(hit);
      }
    }
  };
  const onData = (chunk: Buffer) => {
    text += chunk.toString();
    scan();
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      for (const w of waiters.splice(0))
        w.reject(new Error(`${command} exited (${code}) before printing ${w.pattern}:\n${text}`));
      resolve(code);
    }),
  );
  return {
    child,
    output: () => text,
    line(pattern) {
      return new Promise((resolve, reject) => {
        if (child.exitCode !== null) {
          const hit = text.split("\n").find((l) => pattern.test(l));
          if (hit !== undefined) resolve(hit);
          else reject(new Error(`${command} exited before printing ${pattern}:\n${text}`));
          return;
        }
        waiters.push({ pattern, resolve, reject });
        scan();
      });
    },
    exited,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs a command to completion. */
export async function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number | null; output: string }> {
  const proc = start(command, args, options);
  const code = await proc.exited;
  return { code, output: proc.output() };
}

/** Whether Debian's redis-server is on this machine (`.ci/run` installs it). */
export function hasRedisServer(): boolean {
  return spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
}
