/**
 * Tasks: registered computations that sit beside training runs in an experiments folder (a cross-check, a
 * Monte-Carlo estimate). A task spec is `{ "name", "kind", "description"?, ...config }`; its results file is
 * cached like a training run's, under a key that covers the config and the built code that computes it.
 */
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { InputTooLargeError, readTextBounded, writeFileAtomicSync } from "@nabla/io";
import { z } from "zod";
import { canonicalJson } from "./canonical.js";
import { CancelledError, echo, ResultsError, SpecError, UserError } from "./errors.js";
import { packageFingerprint } from "./fingerprint.js";
import { formatJson, resultsPath } from "./results.js";
import { NAME_PATTERN } from "./spec.js";
import { formatSpecError } from "./spec-errors.js";

export const TASK_RESULTS_SCHEMA_VERSION = 2;

export interface TaskContext {
  signal?: AbortSignal;
  log: (line: string) => void;
}

export interface TaskDefinition<Config = unknown> {
  /** The spec's `kind`. */
  kind: string;
  /** The task's own fields (a z.strictObject without name, kind and description), with their defaults. */
  schema: z.ZodType<Config>;
  /** Computes the result: any JSON value (objects are written as they are; NaN and Infinity are not JSON). */
  run(config: Config, context: TaskContext): unknown | Promise<unknown>;
  /** Built files whose bytes decide the result (e.g. `new URL("./q5.js", import.meta.url)`); part of the key. */
  code: (string | URL)[];
  /** Packages whose built code decides the result (their dist/ is hashed, as for training runs). */
  packages?: string[];
}

const registry = new Map<string, TaskDefinition>();

/** Registers a task kind (replacing one of the same kind). Tasks run in the thread that registered them. */
export function registerTask<Config>(definition: TaskDefinition<Config>): void {
  if (!/^[a-z][a-z0-9-]*$/.test(definition.kind)) {
    throw new Error(
      `registerTask: kind must be lower-case letters, digits and dashes, got "${definition.kind}"`,
    );
  }
  if (definition.code.length === 0)
    throw new Error(`registerTask(${definition.kind}): code must name its files`);
  registry.set(definition.kind, definition as TaskDefinition);
}

export function taskKinds(): string[] {
  return [...registry.keys()].sort();
}

export interface TaskSpec {
  name: string;
  kind: string;
  description?: string;
  config: unknown;
}

const NAME = z.string().regex(NAME_PATTERN, "expected a file-name-safe name").max(120);

/** Validates a task spec against its kind's schema; a SpecError names the file and the field. */
export function parseTaskSpec(input: unknown, source = "spec"): TaskSpec {
  const obj = input as Record<string, unknown>;
  const kind = obj?.kind;
  const definition = typeof kind === "string" ? registry.get(kind) : undefined;
  if (definition === undefined) {
    const known = taskKinds();
    throw new SpecError(
      `${source}: kind: expected a registered task (${known.length > 0 ? known.map((k) => `"${k}"`).join(", ") : "none registered"}; training specs have no kind), got ${JSON.stringify(kind)}`,
    );
  }
  const name = NAME.safeParse(obj.name);
  if (!name.success) throw new SpecError(`${source}: name: ${name.error.issues[0].message}`);
  if (obj.description !== undefined && typeof obj.description !== "string") {
    throw new SpecError(`${source}: description: expected a string`);
  }
  const { name: _n, kind: _k, description, ...fields } = obj;
  const parsed = definition.schema.safeParse(fields, { reportInput: true });
  if (!parsed.success) throw new SpecError(formatSpecError(source, parsed.error));
  return {
    name: name.data,
    kind: definition.kind,
    description: description as string | undefined,
    config: parsed.data,
  };
}

/** A module's built file, or — when running from sources (vitest), where `./x.js` sits beside as `x.ts` — that. */
function codeFile(file: string): string | undefined {
  for (const candidate of [file, file.replace(/\.js$/, ".ts")]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // try the next
    }
  }
  return undefined;
}

function hashFile(hash: ReturnType<typeof createHash>, file: string): void {
  const found = codeFile(file);
  if (found === undefined) {
    throw new UserError(`task code file ${file} is missing: build the package that registers the task`);
  }
  hash.update(found.replace(/^.*\/(dist|src)\//, ""));
  hash.update("\0");
  hash.update(readFileSync(found));
}

/** The cache key of a task run: its kind, resolved config, code files and packages. */
export function taskCacheKey(spec: TaskSpec): string {
  const definition = registry.get(spec.kind);
  if (definition === undefined) throw new Error(`internal: task kind ${spec.kind} is not registered`);
  const code = createHash("sha256");
  for (const entry of definition.code) hashFile(code, entry instanceof URL ? fileURLToPath(entry) : entry);
  const packages: Record<string, unknown> = {};
  for (const name of definition.packages ?? []) packages[name] = packageFingerprint(name);
  const material = canonicalJson({
    schemaVersion: TASK_RESULTS_SCHEMA_VERSION,
    kind: spec.kind,
    config: spec.config,
    code: code.digest("hex"),
    packages,
  });
  return createHash("sha256").update(material).digest("hex");
}

export const taskResultsSchema = z.strictObject({
  schemaVersion: z.literal(TASK_RESULTS_SCHEMA_VERSION),
  name: z.string(),
  kind: z.string(),
  cacheKey: z.string().regex(/^[0-9a-f]{64}$/),
  description: z.string().optional(),
  config: z.unknown(),
  result: z.unknown(),
  timings: z.strictObject({ startedAt: z.string(), totalSeconds: z.number().nonnegative() }),
  /** sha-256 over the canonical JSON of cacheKey and result (see the training results' digest). */
  digest: z.string().regex(/^[0-9a-f]{64}$/),
});
export type TaskResults = z.output<typeof taskResultsSchema>;

/** The content digest of a task's results file. */
export function taskResultsDigest(results: Pick<TaskResults, "cacheKey" | "result">): string {
  return createHash("sha256")
    .update(canonicalJson({ cacheKey: results.cacheKey, result: results.result }))
    .digest("hex");
}

/** A task's results file larger than this is refused unread (results are numbers for a report). */
export const MAX_TASK_RESULTS_BYTES = 64 * 1024 * 1024;

/** Reads and validates a task's results file; ResultsError names the file and the first bad field. */
export function loadTaskResults(file: string): TaskResults {
  let json: unknown;
  try {
    // Bounded by the bytes read: a FIFO or device in the results folder stops at the limit.
    json = JSON.parse(readTextBounded(file, MAX_TASK_RESULTS_BYTES, "task results file"));
  } catch (err) {
    if (err instanceof InputTooLargeError) throw new ResultsError(err.message);
    const code = (err as NodeJS.ErrnoException).code;
    throw new ResultsError(`${file}: cannot read task results (${code ?? echo((err as Error).message)})`);
  }
  const parsed = taskResultsSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ResultsError(`${file}: ${issue.path.map(String).join(".") || "(root)"}: ${issue.message}`);
  }
  if (taskResultsDigest(parsed.data) !== parsed.data.digest) {
    throw new ResultsError(
      `${file}: its digest does not match its contents (the result or cache key were edited after the task wrote them); rerun the experiment or delete the file`,
    );
  }
  return parsed.data;
}

export interface TaskOutcome {
  results: TaskResults;
  file: string;
  cached: boolean;
}

/** Runs a task (or reuses its results file when the cache key matches) and writes `<resultsDir>/<name>.json`. */
export async function runTask(
  spec: TaskSpec,
  options: { resultsDir: string; force?: boolean; signal?: AbortSignal; log?: (line: string) => void },
): Promise<TaskOutcome> {
  const file = resultsPath(options.resultsDir, spec.name);
  const key = taskCacheKey(spec);
  if (options.force !== true) {
    try {
      const previous = loadTaskResults(file);
      if (previous.cacheKey === key) return { results: previous, file, cached: true };
    } catch {
      // Missing or unreadable: computed below.
    }
  }
  if (options.signal?.aborted) throw new CancelledError(`${spec.name}: cancelled`);
  const definition = registry.get(spec.kind) as TaskDefinition;
  const startedAt = new Date().toISOString();
  const started = performance.now();
  const result = await definition.run(spec.config, {
    signal: options.signal,
    log: options.log ?? (() => {}),
  });
  if (options.signal?.aborted) throw new CancelledError(`${spec.name}: cancelled`);
  const results: TaskResults = {
    schemaVersion: TASK_RESULTS_SCHEMA_VERSION,
    name: spec.name,
    kind: spec.kind,
    cacheKey: key,
    ...(spec.description === undefined ? {} : { description: spec.description }),
    config: spec.config,
    result,
    timings: { startedAt, totalSeconds: (performance.now() - started) / 1000 },
    digest: "",
  };
  // Through JSON first: the digest must be over what the file will hold (undefined fields dropped).
  results.result = JSON.parse(JSON.stringify(result ?? null));
  results.digest = taskResultsDigest(results);
  writeFileAtomicSync(file, `${formatJson(results)}\n`);
  return { results, file, cached: false };
}
