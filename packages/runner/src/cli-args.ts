/** Flag parsing, Ctrl-C handling and the output streams shared by the CLI's commands. */
import { parseArgs } from "node:util";
import { UserError } from "./errors.js";

export type Out = { out: NodeJS.WriteStream; err: NodeJS.WriteStream };

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
      throw new UserError(`${command}: unknown option "${flag}" (see nabla ${command} --help)`);
    }
    throw new UserError(`${command}: ${e.message}`);
  }
}

/** Stops the work on the first Ctrl-C; a second one exits at once. */
export function interruptible(io: Out): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    io.err.write("\nnabla: stopping (finished results are kept; Ctrl-C again to quit at once)\n");
    controller.abort();
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
    throw new UserError(
      `${command}: expected one ${what}, got ${positionals.length} (see nabla ${command} --help)`,
    );
  }
  return positionals[0];
}

/** A `--flag n` that must be a positive integer (undefined when absent). */
export function positiveIntFlag(flag: string, value: string | boolean | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new UserError(`--${flag}: expected a positive integer, got "${String(value)}"`);
  return n;
}
