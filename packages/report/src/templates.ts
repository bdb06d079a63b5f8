import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import Handlebars from "handlebars";
import { isChartSpec } from "./charts.js";
import { ReportError, TemplateError } from "./errors.js";
import {
  formatFixed,
  formatGeneral,
  formatInteger,
  formatPercent,
  formatScientific,
  formatScientificHtml,
} from "./format.js";
import { renderTex } from "./katex.js";
import { BUILTIN_PARTIALS } from "./partials.js";
import { MissingVariableError, makeStrict, SITE_KEY, STRICT_HELPER, strictHelper } from "./strict.js";

/** A template folder: `report.hbs` (the body), `partials/**\/*.hbs` (by path without .hbs), optional `style.css`. */
export interface TemplateSet {
  dir: string;
  entry: string;
  /** relative file path -> source */
  sources: Map<string, string>;
  /** partial name -> relative file path */
  partials: Map<string, string>;
  css: string;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(full)));
    else out.push(full);
  }
  return out.sort();
}

export async function loadTemplateSet(templateDir: string, entry = "report.hbs"): Promise<TemplateSet> {
  const entryPath = join(templateDir, entry);
  if (!existsSync(entryPath)) {
    throw new ReportError(`template folder ${templateDir} has no ${entry} (the report body template)`);
  }
  const sources = new Map<string, string>([[entry, await readFile(entryPath, "utf8")]]);
  const partials = new Map<string, string>();
  const partialDir = join(templateDir, "partials");
  if (existsSync(partialDir)) {
    for (const file of await listFiles(partialDir)) {
      if (!file.endsWith(".hbs")) continue;
      const rel = relative(templateDir, file).split(sep).join("/");
      const name = relative(partialDir, file)
        .split(sep)
        .join("/")
        .replace(/\.hbs$/, "");
      sources.set(rel, await readFile(file, "utf8"));
      partials.set(name, rel);
    }
  }
  const cssPath = join(templateDir, "style.css");
  const css = existsSync(cssPath) ? await readFile(cssPath, "utf8") : "";
  return { dir: templateDir, entry, sources, partials, css };
}

/** Per-render numbering of figures, tables and equations; pass 2 resolves {{ref}} from pass 1. */
interface NumberingState {
  pass: 1 | 2;
  counters: Map<string, number>;
  labels: Map<string, { kind: string; n: number }>;
  previous: Map<string, { kind: string; n: number }>;
}

function locSuffix(line: number | undefined, column: number | undefined): string {
  return line === undefined ? "" : `:${line}:${(column ?? 0) + 1}`;
}

/** Where in a user template a helper failed (line 1-based, column 0-based as Handlebars counts). */
interface Site {
  line: number;
  column: number;
}

/** Errors thrown by helpers, with the position of the call in the user template that made it. */
const failedAt = new WeakMap<object, Site>();

/** Whether the helper now running was called from a built-in partial (whose positions mean nothing to a user). */
interface Depth {
  inBuiltin: number;
}

function toTemplateError(error: unknown, file: string): TemplateError {
  if (error instanceof TemplateError) return error;
  if (error instanceof MissingVariableError) {
    return new TemplateError(
      `${file}${locSuffix(error.line, error.column)}: missing variable "${error.variable}"`,
      file,
      error.variable,
    );
  }
  const e = error as { message?: string; lineNumber?: number; column?: number };
  const message = (e.message ?? String(error)).split("\n")[0];
  const site = typeof error === "object" && error !== null ? failedAt.get(error) : undefined;
  const where = site ? locSuffix(site.line, site.column) : locSuffix(e.lineNumber, e.column);
  return new TemplateError(`${file}${where}: ${message}`, file);
}

function num(value: unknown, helper: string): number | null {
  if (value === null) return null;
  if (typeof value !== "number") {
    throw new ReportError(
      `{{${helper}}} expects a number, got ${typeof value} ${JSON.stringify(value)?.slice(0, 40)}`,
    );
  }
  return value;
}

/** Optional trailing numeric argument of a helper (Handlebars passes `options` last). */
function optionalInt(args: unknown[], index: number, fallback: number): number {
  const v = args[index];
  return typeof v === "number" ? v : fallback;
}

type HelperArgs = unknown[];

type Helper = (this: unknown, ...args: HelperArgs) => unknown;

/**
 * Registers a helper whose errors remember where it was called (Handlebars passes `options.loc` last) when
 * that was in a user template; inside a built-in partial the partial's wrapper supplies the caller's site.
 */
function located(hb: typeof Handlebars, depth: Depth): (name: string, fn: Helper) => void {
  return (name, fn) => {
    hb.registerHelper(name, function (this: unknown, ...args: HelperArgs) {
      try {
        return fn.apply(this, args);
      } catch (error) {
        const loc = (args[args.length - 1] as { loc?: hbs.AST.SourceLocation } | undefined)?.loc;
        if (
          depth.inBuiltin === 0 &&
          loc &&
          typeof error === "object" &&
          error !== null &&
          !failedAt.has(error)
        ) {
          failedAt.set(error, { line: loc.start.line, column: loc.start.column });
        }
        throw error;
      }
    });
  };
}

function registerHelpers(
  hb: typeof Handlebars,
  state: NumberingState,
  charts: WeakMap<object, string>,
  depth: Depth,
): void {
  const safe = (html: string) => new hb.SafeString(html);
  hb.registerHelper(STRICT_HELPER, strictHelper);
  const register = located(hb, depth);
  register("fixed", (x: unknown, ...rest: HelperArgs) =>
    formatFixed(num(x, "fixed"), optionalInt(rest, 0, 3)),
  );
  register("pct", (x: unknown, ...rest: HelperArgs) => formatPercent(num(x, "pct"), optionalInt(rest, 0, 1)));
  register("int", (x: unknown) => formatInteger(num(x, "int")));
  register("sci", (x: unknown, ...rest: HelperArgs) =>
    safe(formatScientificHtml(num(x, "sci"), optionalInt(rest, 0, 2))),
  );
  register("scitext", (x: unknown, ...rest: HelperArgs) =>
    formatScientific(num(x, "scitext"), optionalInt(rest, 0, 2)),
  );
  register("general", (x: unknown, ...rest: HelperArgs) =>
    formatGeneral(num(x, "general"), optionalInt(rest, 0, 4)),
  );
  // {{tex "x^2"}} or {{#tex}}x^{{n}}{{/tex}} inline; texd the same in display mode.
  register("tex", function (this: unknown, ...args: HelperArgs) {
    return safe(renderTex(texSource(this, args, "tex"), false));
  });
  register("texd", function (this: unknown, ...args: HelperArgs) {
    return safe(renderTex(texSource(this, args, "texd"), true));
  });
  register("chart", (spec: unknown) => {
    if (!isChartSpec(spec)) {
      throw new ReportError('{{chart}} expects a vega-lite spec (an object whose "$schema" names vega-lite)');
    }
    const svg = charts.get(spec);
    if (svg === undefined) throw new ReportError("{{chart}}: this spec was not part of the render data");
    return safe(`<div class="chart">${svg}</div>`);
  });
  register("number", (kind: unknown, id: unknown) => {
    if (typeof kind !== "string" || typeof id !== "string" || id === "") {
      throw new ReportError("{{number kind id}} needs two strings");
    }
    if (state.labels.has(id)) throw new ReportError(`duplicate ${kind} id "${id}"`);
    const n = (state.counters.get(kind) ?? 0) + 1;
    state.counters.set(kind, n);
    state.labels.set(id, { kind, n });
    return String(n);
  });
  register("ref", (id: unknown) => {
    if (typeof id !== "string") throw new ReportError("{{ref id}} needs a string id");
    if (state.pass === 1) return "?";
    const label = state.previous.get(id);
    if (!label) throw new ReportError(`{{ref "${id}"}}: no figure, table or equation has that id`);
    return String(label.n);
  });
  register("heading", (level: unknown, title: unknown) => {
    if (typeof level !== "number" || !Number.isInteger(level) || level < 1 || level > 6) {
      throw new ReportError(`section level must be 1..6, got ${String(level)}`);
    }
    return safe(`<h${level}>${hb.escapeExpression(String(title))}</h${level}>`);
  });
  register("need", (value: unknown, where: unknown, field: unknown) => {
    if (value === undefined || value === null || value === "") {
      throw new ReportError(`${String(where)} needs ${String(field)}=`);
    }
    return value;
  });
  register("default", (value: unknown, fallback: unknown) => (value === undefined ? fallback : value));
  register("eq", (a: unknown, b: unknown) => a === b);
  register("ne", (a: unknown, b: unknown) => a !== b);
  register("lt", (a: unknown, b: unknown) => (a as number) < (b as number));
  register("lte", (a: unknown, b: unknown) => (a as number) <= (b as number));
  register("gt", (a: unknown, b: unknown) => (a as number) > (b as number));
  register("gte", (a: unknown, b: unknown) => (a as number) >= (b as number));
  register("and", (...args: HelperArgs) => args.slice(0, -1).every(Boolean));
  register("or", (...args: HelperArgs) => args.slice(0, -1).some(Boolean));
  register("not", (a: unknown) => !a);
  // (array a b c) -> [a, b, c], e.g. to pass one row to the verification-table partial.
  register("array", (...args: HelperArgs) => args.slice(0, -1));
  register("sub", (a: unknown, b: unknown) => (num(a, "sub") ?? Number.NaN) - (num(b, "sub") ?? Number.NaN));
  register("mul", (a: unknown, b: unknown) => (num(a, "mul") ?? Number.NaN) * (num(b, "mul") ?? Number.NaN));
}

function texSource(context: unknown, args: HelperArgs, helper: string): string {
  const options = args[args.length - 1] as Handlebars.HelperOptions;
  if (args.length > 1) {
    if (typeof args[0] !== "string") throw new ReportError(`{{${helper}}} expects a TeX string`);
    return args[0];
  }
  if (typeof options.fn !== "function") throw new ReportError(`{{${helper}}} needs a TeX string or a block`);
  return options.fn(context).trim();
}

/** Renders the body of the template set with `data` (two passes, so {{ref}} can point forward). */
export function renderTemplateSet(set: TemplateSet, data: object, charts: WeakMap<object, string>): string {
  const state: NumberingState = { pass: 1, counters: new Map(), labels: new Map(), previous: new Map() };
  const hb = Handlebars.create();
  const depth: Depth = { inBuiltin: 0 };
  registerHelpers(hb, state, charts, depth);
  const isHelper = (name: string) => Object.hasOwn(hb.helpers, name);
  const isBuiltinPartial = (name: string) => Object.hasOwn(BUILTIN_PARTIALS, name);

  const compile = (file: string, source: string, strict: boolean): Handlebars.TemplateDelegate => {
    try {
      const ast = hb.parse(source);
      if (strict) makeStrict(ast, isHelper, isBuiltinPartial);
      return hb.compile(ast, { noEscape: false, preventIndent: true });
    } catch (error) {
      throw toTemplateError(error, file);
    }
  };
  // A user template: its errors become TemplateErrors naming it.
  const userFile = (file: string, source: string): Handlebars.TemplateDelegate => {
    const compiled = compile(file, source, true);
    return (context: unknown, options?: Handlebars.RuntimeOptions) => {
      try {
        return compiled(context, options);
      } catch (error) {
        throw toTemplateError(error, file);
      }
    };
  };
  // A built-in partial (non-strict): errors pass on to the calling template, placed at the call (the site
  // the caller's AST pass added) unless they arose in the caller's own partial-block content.
  const builtin = (name: string, source: string): Handlebars.TemplateDelegate => {
    const compiled = compile(`(built-in partial ${name})`, source, false);
    return (context: unknown, options?: Handlebars.RuntimeOptions) => {
      const data = options?.data as Record<string, unknown> | undefined;
      const block = data?.["partial-block"];
      if (data && typeof block === "function") {
        data["partial-block"] = (...args: unknown[]) => {
          const saved = depth.inBuiltin;
          depth.inBuiltin = 0;
          try {
            return block(...args);
          } finally {
            depth.inBuiltin = saved;
          }
        };
      }
      depth.inBuiltin++;
      try {
        return compiled(context, options);
      } catch (error) {
        const site = (context as Record<string, unknown> | null)?.[SITE_KEY];
        const m = typeof site === "string" ? /^(\d+):(\d+)$/.exec(site) : null;
        const placeable = typeof error === "object" && error !== null && !(error instanceof TemplateError);
        if (m && placeable && !(error instanceof MissingVariableError) && !failedAt.has(error)) {
          failedAt.set(error, { line: Number(m[1]), column: Number(m[2]) });
        }
        throw error;
      } finally {
        depth.inBuiltin--;
      }
    };
  };

  for (const [name, source] of Object.entries(BUILTIN_PARTIALS))
    hb.registerPartial(name, builtin(name, source));
  for (const [name, file] of set.partials) {
    hb.registerPartial(name, userFile(file, set.sources.get(file) ?? ""));
  }
  const entry = userFile(set.entry, set.sources.get(set.entry) ?? "");
  const run = () => entry(data, { allowProtoPropertiesByDefault: false });
  run();
  state.pass = 2;
  state.previous = state.labels;
  state.labels = new Map();
  state.counters = new Map();
  return run();
}
