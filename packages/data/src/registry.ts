import { z } from "zod";
import { augmentProblem, augmentSchema, type TransformInput } from "./augment.js";
import { DataError } from "./errors.js";
import type { Dataset, DatasetInfo } from "./types.js";

/** Progress of a long load (download, verification, parsing); `done`/`total` when countable. */
export interface LoadProgressEvent {
  phase: string;
  message: string;
  done?: number;
  total?: number;
}

export interface LoadContext {
  onProgress?: (event: LoadProgressEvent) => void;
  /** Aborting makes `load` reject as soon as the source can stop (at the latest, when it is done). */
  signal?: AbortSignal;
}

/**
 * A kind of dataset a spec can name in `data.source`. `C` is the output of `schema`: the source's own config
 * fields, defaults filled in, without the `source` discriminator (the registry adds it).
 */
export interface DatasetSource<C extends object = object> {
  /** The `source` value that selects this source, e.g. "cifar10". */
  readonly name: string;
  /** A z.strictObject of the config fields; refinements across fields (validationSize < trainCount) belong here. */
  readonly schema: z.ZodType<C>;
  /** What the config determines without reading data: shapes, classes, split sizes. Must not do I/O. */
  info(config: C): DatasetInfo;
  load(config: C, ctx?: LoadContext): Promise<Dataset>;
  /**
   * The config fields that shape the data (default: all of them). A verified local folder is where the data
   * sits, not what it is, so it stays out of result cache keys.
   */
  cacheIdentity?(config: C): unknown;
}

/**
 * A parsed `data` config: the discriminator, the source's own fields and, when given and not empty, `augment`
 * (the training batches' transforms, see augmentBatches; the source never sees it).
 */
export type DataConfig = { readonly source: string; readonly augment?: readonly TransformInput[] } & Readonly<
  Record<string, unknown>
>;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const sources = new Map<string, DatasetSource>();

/**
 * Make a source selectable by name in data configs (and dataConfigSchema()s built from now on). Registering
 * the same object again is a no-op, so modules may register what they need without coordinating.
 */
export function registerDataset<C extends object>(source: DatasetSource<C>): void {
  const where = "registerDataset";
  const { name } = source;
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new DataError(
      where,
      "name",
      `expected letters, digits, . _ - (not first), got ${JSON.stringify(name)}`,
    );
  }
  const known = sources.get(name);
  if (known === (source as DatasetSource)) return;
  if (known !== undefined) {
    throw new DataError(
      where,
      "name",
      `expected a new name, "${name}" is already registered by another source`,
    );
  }
  const shape = objectShape(source.schema);
  if (shape === null) {
    throw new DataError(where, `${name}.schema`, "expected a z.strictObject of the source's config fields");
  }
  for (const [field, role] of [
    ["source", "the discriminator"],
    ["augment", "the transforms of every source"],
  ]) {
    if (field in shape) {
      throw new DataError(
        where,
        `${name}.schema`,
        `expected no "${field}" field (the registry adds ${role})`,
      );
    }
  }
  for (const method of ["info", "load"] as const) {
    if (typeof source[method] !== "function") {
      throw new DataError(where, `${name}.${method}`, "expected a function");
    }
  }
  sources.set(name, source as DatasetSource);
}

/** The registered source of that name; the error lists the registered names. */
export function datasetSource(name: string): DatasetSource {
  const source = sources.get(name);
  if (source === undefined) {
    throw new DataError(
      "datasetSource",
      "source",
      `expected one of ${quoted(datasetNames())}, got ${JSON.stringify(name)}`,
    );
  }
  return source;
}

/** Registered source names, in registration order. */
export function datasetNames(): string[] {
  return [...sources.keys()];
}

export interface DataConfigSchemaOptions {
  /** The source a config without `source` means (e.g. "cifar10"), so `{"validationSize": 1000}` is accepted. */
  defaultSource?: string;
}

/**
 * A zod schema of `data` configs: a discriminated union on `source` over the sources registered when it is
 * called (build it after registering user sources). A wrong or missing source reports
 * `expected source to be one of "cifar10", "synthetic"`. Every source also takes `augment` (optional): its
 * transforms are checked against the source's info().featureShape, so a crop of flat data fails here, before
 * anything is read, at path augment[i]; `[]` parses to a config without the field (same as leaving it out).
 */
export function dataConfigSchema(options: DataConfigSchemaOptions = {}): z.ZodType<DataConfig> {
  const names = datasetNames();
  if (names.length === 0) {
    throw new DataError(
      "dataConfigSchema",
      "source",
      "expected at least one registered source (registerDataset)",
    );
  }
  const { defaultSource } = options;
  if (defaultSource !== undefined) datasetSource(defaultSource);
  const members = names.map((name) => {
    const schema = datasetSource(name).schema as unknown as z.ZodObject;
    // `source` first, so parsed configs read (and are written to results files) as they are usually typed;
    // the source's cross-field checks are carried over.
    return z
      .strictObject({ source: z.literal(name), ...schema.shape, augment: augmentSchema().optional() })
      .check(...((schema._zod.def.checks ?? []) as z.core.$ZodCheck<object>[]));
  });
  const union = z
    .discriminatedUnion("source", members as unknown as [z.ZodObject, ...z.ZodObject[]], {
      error: `expected source to be one of ${quoted(names)}`,
    })
    .transform((parsed, ctx) => {
      const config = parsed as DataConfig;
      if (!("augment" in config)) return config;
      const { augment, ...rest } = config;
      if (augment === undefined || augment.length === 0) return rest as DataConfig;
      const problem = augmentProblem(augment, datasetInfo(config).featureShape);
      if (problem !== undefined) {
        ctx.addIssue({ code: "custom", path: ["augment", problem.index], message: problem.problem });
      }
      return config;
    }) as unknown as z.ZodType<DataConfig>;
  if (defaultSource === undefined) return union;
  return z.preprocess(
    (v) =>
      v !== null && typeof v === "object" && !Array.isArray(v) && !("source" in v)
        ? { source: defaultSource, ...v }
        : v,
    union,
  ) as unknown as z.ZodType<DataConfig>;
}

/** The source's fields of a parsed config (without the discriminator and augment), as its methods take them. */
function ownFields(config: DataConfig): { source: DatasetSource; fields: object } {
  const { source, augment: _augment, ...fields } = config;
  return { source: datasetSource(source), fields };
}

/** What a parsed data config determines without reading any data. */
export function datasetInfo(config: DataConfig): DatasetInfo {
  const { source, fields } = ownFields(config);
  return source.info(fields);
}

/** Load the dataset a parsed data config names. */
export function loadDataset(config: DataConfig, ctx: LoadContext = {}): Promise<Dataset> {
  const { source, fields } = ownFields(config);
  return source.load(fields, ctx);
}

/**
 * What identifies the data of a parsed config in a results cache key: `{ source, ...cacheIdentity(fields) }`
 * (all fields when the source defines no cacheIdentity), then `augment` when the config has it (it changes
 * what training sees). For cifar10 that is the config without `dir`.
 */
export function dataCacheIdentity(config: DataConfig): Record<string, unknown> {
  const { source, fields } = ownFields(config);
  const identity = source.cacheIdentity === undefined ? fields : source.cacheIdentity(fields);
  const plain = identity !== null && typeof identity === "object" && !Array.isArray(identity);
  const base = plain ? { source: config.source, ...identity } : { source: config.source, identity };
  const { augment } = config;
  return augment === undefined || augment.length === 0 ? base : { ...base, augment };
}

/** The fragment spread by sources that hold out validation examples from their training set. */
export const HOLDOUT_DEFAULTS = Object.freeze({ splitSeed: 42, validationSize: 5000 });

/** `splitSeed` (uint32, default 42) and `validationSize` (positive integer, default 5000), for z.strictObject. */
export const holdoutFields = {
  /** Seed of the hold-out permutation, independent of the run seed. */
  splitSeed: z.number().int().min(0).max(0xffff_ffff).default(HOLDOUT_DEFAULTS.splitSeed),
  /** Training examples held out as the validation split. */
  validationSize: z.number().int().positive().default(HOLDOUT_DEFAULTS.validationSize),
};

/** The fields of a strict zod object schema, or null for anything else. */
function objectShape(schema: unknown): Record<string, unknown> | null {
  const zod = (
    schema as { _zod?: { def?: { type?: string; catchall?: { _zod?: { def?: { type?: string } } } } } }
  )?._zod;
  const def = zod?.def;
  if (def?.type !== "object" || def.catchall?._zod?.def?.type !== "never") return null;
  const shape = (schema as { shape?: unknown }).shape;
  return shape !== null && typeof shape === "object" ? (shape as Record<string, unknown>) : null;
}

function quoted(names: readonly string[]): string {
  return names.map((n) => `"${n}"`).join(", ");
}
