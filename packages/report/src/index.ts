/**
 * @nabla/report: a template folder plus data to report.html and report.pdf. Handlebars (strict variables,
 * numbered figures/tables/equations), KaTeX math and vega-lite charts rendered in Node, printed by Chromium.
 */
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "@nabla/io";
import { findBrowser } from "./browser.js";
import { compileChartsIn } from "./charts.js";
import { BrowserNotFoundError, ExternalResourceError } from "./errors.js";
import { katexCss } from "./katex.js";
import { checkOutDir, writePair } from "./output.js";
import { htmlToPdf, type PdfOptions } from "./pdf.js";
import { externalReferences, locateIn } from "./resources.js";
import { PRINT_CSS } from "./style.js";
import { loadTemplateSet, renderTemplateSet, type TemplateSet } from "./templates.js";

export { type Environment, findBrowser } from "./browser.js";
export { CHART_FONT, type ChartSpec, chartToSvg, isChartSpec } from "./charts.js";
export { BrowserNotFoundError, ExternalResourceError, ReportError, TemplateError } from "./errors.js";
export {
  formatFixed,
  formatGeneral,
  formatInteger,
  formatPercent,
  formatScientific,
  formatScientificHtml,
} from "./format.js";
export { katexCss, renderTex } from "./katex.js";
export {
  BROWSER_ARGS,
  countPdfPages,
  DEFAULT_FOOTER,
  DEFAULT_MARGIN,
  htmlFileToPdf,
  type PdfOptions,
} from "./pdf.js";

export interface RenderHtmlOptions {
  /** Folder with report.hbs, partials/*.hbs and an optional style.css. */
  templateDir: string;
  /** Template data. vega-lite specs anywhere inside are compiled to SVG for {{chart spec}}. */
  data: object;
  /** Body template file inside templateDir (default "report.hbs"). */
  entry?: string;
  /** Document <title> (default "Report"). */
  title?: string;
}

export interface RenderReportOptions extends RenderHtmlOptions, PdfOptions {
  /** Output folder; report.html (and report.pdf) are written there atomically. */
  outDir: string;
  /** Also print the PDF (default true). */
  pdf?: boolean;
  /** File name stem (default "report"). */
  basename?: string;
  /** Layout warnings (elements wider than the page); default: console.warn. */
  onWarning?: (message: string) => void;
}

export interface RenderReportResult {
  htmlPath: string;
  pdfPath?: string;
  pageCount?: number;
  /** Elements wider than the printable width (Chromium shrinks the whole page to fit them): fix these. */
  overflowing?: string[];
}

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] as string,
  );
}

/**
 * Refuses a document that refers to anything but data: URLs and #fragments: the page's CSP would block the
 * load and the PDF would silently lack it. Names the template (or style.css) holding the URL, with its
 * line:column, else `fallback` (the URL came from the data).
 */
function refuseExternal(html: string, set: TemplateSet, fallback: string): void {
  const refs = externalReferences(html);
  if (refs.length === 0) return;
  const [{ url, what }] = refs;
  const sources: [string, string][] = [...set.sources, ["style.css", set.css]];
  const where = locateIn(sources, [url, escapeHtml(url)]) ?? fallback;
  const more = refs.length > 1 ? ` (+${refs.length - 1} more)` : "";
  throw new ExternalResourceError(
    `${where}: ${what} loads ${url}${more}; a report may only use inline data: URLs and #fragments`,
    url,
    where,
  );
}

async function buildHtml(opts: RenderHtmlOptions, outputName: string): Promise<string> {
  const set = await loadTemplateSet(opts.templateDir, opts.entry);
  const charts = await compileChartsIn(opts.data);
  const body = renderTemplateSet(set, opts.data, charts);
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; font-src data:; img-src data:">
<title>${escapeHtml(opts.title ?? "Report")}</title>
<style>${katexCss()}</style>
<style>${PRINT_CSS}</style>
${set.css === "" ? "" : `<style>${set.css}</style>`}
</head>
<body>
${body}
</body>
</html>
`;
  refuseExternal(html, set, outputName);
  return html;
}

/**
 * The complete, self-contained HTML document (CSS, fonts and charts inline; nothing is fetched). A reference
 * to anything but a data: URL or a #fragment is an ExternalResourceError.
 */
export function renderHtml(opts: RenderHtmlOptions): Promise<string> {
  return buildHtml(opts, `the HTML rendered from ${opts.entry ?? "report.hbs"}`);
}

/** The browser to print with, checked before any template work. */
function browserFor(opts: PdfOptions): string {
  if (opts.executablePath === undefined) return findBrowser();
  const p = opts.executablePath;
  if (!existsSync(p) || !statSync(p).isFile()) {
    throw new BrowserNotFoundError(
      `executablePath ${p} is not a file (expected a Chromium or Chrome binary)`,
    );
  }
  return p;
}

/**
 * Writes <outDir>/report.html and, unless pdf is false, <outDir>/report.pdf, as a pair: when anything fails
 * (templates, the browser, the disk) both files stay as they were. The output folder and the browser are
 * checked first, before any template work.
 */
export async function renderReport(opts: RenderReportOptions): Promise<RenderReportResult> {
  const stem = opts.basename ?? "report";
  const outDir = resolve(opts.outDir);
  await checkOutDir(outDir);
  const executablePath = opts.pdf === false ? undefined : browserFor(opts);
  const htmlPath = join(outDir, `${stem}.html`);
  const pdfPath = join(outDir, `${stem}.pdf`);
  const html = await buildHtml(opts, htmlPath);
  const warn = opts.onWarning ?? ((message: string) => console.warn(`report: ${message}`));
  if (opts.pdf === false) {
    await writeFileAtomic(htmlPath, html);
    if (existsSync(pdfPath)) warn(`${pdfPath} is from an earlier render (this one had pdf: false)`);
    return { htmlPath };
  }
  const { pageCount, overflowing } = await writePair(htmlPath, html, pdfPath, () =>
    htmlToPdf(html, htmlPath, { ...opts, executablePath }),
  );
  for (const what of overflowing) {
    warn(`${what} is wider than the printable page; Chromium shrinks every page to fit it`);
  }
  return { htmlPath, pdfPath, pageCount, overflowing };
}

/** renderReport with the PDF always on. */
export function renderPdf(opts: Omit<RenderReportOptions, "pdf">): Promise<RenderReportResult> {
  return renderReport({ ...opts, pdf: true });
}
