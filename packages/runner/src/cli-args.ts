/** Flag parsing, Ctrl-C handling and the output streams shared by the CLI's commands. */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { echo, messageLine, UsageError, UserError } from "./errors.js";
import type { TextOutput } from "./progress.js";

export type Out = { out: TextOutput; err: TextOutput };

export type Flags = Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }>;

/** Parses flags strictly; an unknown flag or a missing value is a usage error. */
export function parse(
  command: string,
  args: string[],
  options: Flags,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
    });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // Node's own text suggests `--` tricks; name the flag and point to the help instead.
    const flag = /'([^']+)'/.exec(e.message)?.[1];
    if (e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && flag !== undefined) {
      throw new UsageError(`${command}: unknown option "${echo(flag)}" (see nabla ${command} --help)`);
    }
    throw new UsageError(`${command}: ${echo(messageLine(e.message))}`);
  }
}

/** How long a stop request waits for the work to wind down before the process exits anyway. */
export const STOP_GRACE_MS = 1000;

/**
 * Stops the work on the first Ctrl-C (or SIGTERM); if it has not wound down within STOP_GRACE_MS — a phase
 * that cannot be interrupted, such as parsing a data file — the process exits anyway, which is safe because
 * every write is atomic. A second Ctrl-C exits at once.
 */
export function interruptible(io: Out): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    io.err.write("\nnabla: stopping (finished results are kept; Ctrl-C again to quit at once)\n");
    controller.abort();
    setTimeout(() => {
      io.err.write("nabla: stopped (finished results are kept; nothing is half-written)\n");
      process.exit(130);
    }, STOP_GRACE_MS).unref();
  };
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigint);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off("SIGINT", onSigint);
      process.off("SIGTERM", onSigint);
    },
  };
}

export function onePositional(positionals: string[], command: string, what = "spec file"): string {
  if (positionals.length !== 1) {
    throw new UsageError(
      `${command}: expected one ${what}, got ${positionals.length} (see nabla ${command} --help)`,
    );
  }
  return positionals[0];
}

/**
 * A `--flag n` that must be a positive integer (undefined when absent): decimal digits only, so "0x10",
 * "1e3" or "1e30" (an integer to Number, and a billion threads to a worker pool) are refused.
 */
export function positiveIntFlag(flag: string, value: string | boolean | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  const n = Number(text);
  if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`--${flag}: expected a positive integer, got "${echo(text)}"`);
  return n;
}

/** Stack traces of internal errors are printed only on request (`--verbose` or NABLA_VERBOSE=1). */
export function verbose(): boolean {
  return process.env.NABLA_VERBOSE === "1" || process.env.NABLA_VERBOSE === "true";
}

/** One line per failed experiment (a user error's message; for a bug, its first line, the stack on request). */
export function describeFailure(f: { name: string; message: string; user: boolean; stack?: string }): string {
  const line = `nabla: ${f.name} failed: ${messageLine(f.message)}\n`;
  return f.user || !verbose() || f.stack === undefined ? line : `${line}${f.stack}\n`;
}

/** Exit code of a batch of experiments: 1 when any failed, 130 when any was cancelled, else 0. */
export function batchExitCode(outcome: {
  failures: readonly unknown[];
  cancelled: readonly unknown[];
}): number {
  if (outcome.failures.length > 0) return 1;
  if (outcome.cancelled.length > 0) return 130;
  return 0;
}

/** The `--import <module>` flag (repeatable) of run, sweep and worker. */
export const IMPORT_OPTION = { import: { type: "string", multiple: true } } as const;

/**
 * A module as the user named it, as a URL any thread can import: a path (relative to the cwd) when it starts
 * with "." or "/" or names an existing file, else a package specifier resolved from the cwd (then, failing
 * that, from the runner itself).
 */
function moduleUrl(module: string): string {
  const path = resolve(module);
  if (module.startsWith(".") || isAbsolute(module) || existsSync(path)) return pathToFileURL(path).href;
  try {
    return pathToFileURL(createRequire(join(process.cwd(), "noop.js")).resolve(module)).href;
  } catch {
    return module;
  }
}

/**
 * Imports the `--import` modules (in order, before any spec is parsed, so what they register is accepted)
 * and returns their URLs for worker threads. A module that fails to import is a one-line user error.
 */
export async function importModules(
  modules: string | boolean | string[] | undefined,
  flag = "--import",
): Promise<string[]> {
  const list = Array.isArray(modules) ? modules : typeof modules === "string" ? [modules] : [];
  const urls: string[] = [];
  for (const module of list) {
    const url = moduleUrl(module);
    try {
      await import(url);
    } catch (err) {
      throw new UserError(
        `${flag} ${echo(module)}: cannot import the module (${echo(messageLine(String((err as Error)?.message ?? err)))})`,
      );
    }
    urls.push(url);
  }
  return urls;
}
