import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { ReportError } from "./errors.js";

/** A vega-lite spec as found in report data: recognised by its `$schema` naming vega-lite. */
export type ChartSpec = TopLevelSpec;

/** Fonts present on a bare Debian with fonts-dejavu-core / fonts-liberation (see .ci/run). */
export const CHART_FONT = "DejaVu Sans, Liberation Sans, sans-serif";

const DEFAULT_CONFIG = {
  font: CHART_FONT,
  background: "white",
  axis: { labelFontSize: 10, titleFontSize: 11, titleFontWeight: "normal", grid: true, gridOpacity: 0.5 },
  legend: { labelFontSize: 10, titleFontSize: 11 },
  title: { fontSize: 12, fontWeight: "normal" },
  view: { stroke: "#888" },
} as const;

export function isChartSpec(value: unknown): value is ChartSpec {
  if (value === null || typeof value !== "object") return false;
  const schema = (value as { $schema?: unknown }).$schema;
  return typeof schema === "string" && schema.includes("vega-lite");
}

/** Vega loader that refuses everything: chart data must be inline, the report never fetches. */
const refusingLoader = {
  load: (uri: string) =>
    Promise.reject(new ReportError(`chart data must be inline (data.values), not loaded from ${uri}`)),
  sanitize: (uri: string) =>
    Promise.reject(new ReportError(`chart data must be inline (data.values), not ${uri}`)),
  http: (uri: string) => Promise.reject(new ReportError(`charts may not fetch ${uri}`)),
  file: (path: string) => Promise.reject(new ReportError(`charts may not read ${path}`)),
};

/**
 * Makes the ids inside one SVG unique (vega numbers clip paths and gradients per process, and several
 * charts inlined into one HTML page would otherwise point at each other's definitions).
 */
function prefixSvgIds(svg: string, prefix: string): string {
  return svg
    .replace(/\bid="([^"]+)"/g, (_m, id: string) => `id="${prefix}${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_m, id: string) => `url(#${prefix}${id})`)
    .replace(/href="#([^"]+)"/g, (_m, id: string) => `href="#${prefix}${id}"`);
}

let chartCounter = 0;

/** Compiles a vega-lite spec to a standalone SVG string in Node (vega View, renderer "none", toSVG()). */
export async function chartToSvg(spec: ChartSpec, opts: { idPrefix?: string } = {}): Promise<string> {
  const specConfig = (spec as { config?: Record<string, unknown> }).config ?? {};
  const withDefaults = { ...spec, config: { ...DEFAULT_CONFIG, ...specConfig } } as ChartSpec;
  // A vega-lite warning means the chart is not what the spec says (a dropped encoding, a conflicting
  // scale): fail like a KaTeX error instead of printing a different chart.
  const warnings: string[] = [];
  const logger = {
    level: () => logger,
    warn: (...args: unknown[]) => {
      warnings.push(args.map(String).join(" "));
      return logger;
    },
    info: () => logger,
    debug: () => logger,
    error: (...args: unknown[]) => {
      warnings.push(args.map(String).join(" "));
      return logger;
    },
  };
  let vegaSpec: vega.Spec;
  try {
    vegaSpec = compile(withDefaults, { logger: logger as never }).spec;
  } catch (error) {
    throw new ReportError(`invalid vega-lite chart spec: ${(error as Error).message}`);
  }
  if (warnings.length > 0) throw new ReportError(`vega-lite chart spec: ${warnings[0]}`);
  for (const dataset of vegaSpec.data ?? []) {
    if ("url" in dataset) {
      throw new ReportError(
        `chart data must be inline (data.values), not loaded from ${String(dataset.url)}`,
      );
    }
  }
  const view = new vega.View(vega.parse(vegaSpec), {
    renderer: "none",
    loader: refusingLoader as unknown as vega.Loader,
    logLevel: vega.Error,
  });
  try {
    const svg = await view.toSVG();
    chartCounter += 1;
    return prefixSvgIds(svg, opts.idPrefix ?? `chart${chartCounter}-`);
  } finally {
    view.finalize();
  }
}

/**
 * Finds every vega-lite spec anywhere in `data` and compiles it, so that the (synchronous) template
 * helper `{{chart spec}}` can look the SVG up by object identity.
 */
export async function compileChartsIn(data: unknown): Promise<WeakMap<object, string>> {
  const found: ChartSpec[] = [];
  const seen = new Set<object>();
  const visit = (value: unknown): void => {
    if (value === null || typeof value !== "object" || seen.has(value)) return;
    seen.add(value);
    if (isChartSpec(value)) {
      found.push(value);
      return;
    }
    if (ArrayBuffer.isView(value)) return;
    for (const child of Object.values(value)) visit(child);
  };
  visit(data);
  const svgs = new WeakMap<object, string>();
  for (const [i, spec] of found.entries()) {
    svgs.set(spec, await chartToSvg(spec, { idPrefix: `c${i + 1}-` }));
  }
  return svgs;
}
