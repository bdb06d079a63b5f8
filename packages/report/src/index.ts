/**
 * @nabla/report: a template folder plus data to report.html and report.pdf. Handlebars (strict variables,
 * numbered figures/tables/equations), KaTeX math and vega-lite charts rendered in Node, printed by Chromium.
 */
import { join, resolve } from "node:path";
import { writeFileAtomic } from "@nabla/io";
import { compileChartsIn } from "./charts.js";
import { katexCss } from "./katex.js";
import { htmlFileToPdf, type PdfOptions } from "./pdf.js";
import { PRINT_CSS } from "./style.js";
import { loadTemplateSet, renderTemplateSet } from "./templates.js";

export { findBrowser } from "./browser.js";
export { CHART_FONT, type ChartSpec, chartToSvg, isChartSpec } from "./charts.js";
export { BrowserNotFoundError, ReportError, TemplateError } from "./errors.js";
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

/** The complete, self-contained HTML document (CSS, fonts and charts inline; nothing is fetched). */
export async function renderHtml(opts: RenderHtmlOptions): Promise<string> {
  const set = await loadTemplateSet(opts.templateDir, opts.entry);
  const charts = await compileChartsIn(opts.data);
  const body = renderTemplateSet(set, opts.data, charts);
  return `<!doctype html>
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
}

/** Writes <outDir>/report.html and, unless pdf is false, <outDir>/report.pdf. */
export async function renderReport(opts: RenderReportOptions): Promise<RenderReportResult> {
  const stem = opts.basename ?? "report";
  const html = await renderHtml(opts);
  const htmlPath = resolve(join(opts.outDir, `${stem}.html`));
  await writeFileAtomic(htmlPath, html);
  if (opts.pdf === false) return { htmlPath };
  const { pdfPath, pageCount, overflowing } = await htmlFileToPdf(
    htmlPath,
    resolve(join(opts.outDir, `${stem}.pdf`)),
    opts,
  );
  const warn = opts.onWarning ?? ((message: string) => console.warn(`report: ${message}`));
  for (const what of overflowing) {
    warn(`${what} is wider than the printable page; Chromium shrinks every page to fit it`);
  }
  return { htmlPath, pdfPath, pageCount, overflowing };
}

/** renderReport with the PDF always on. */
export function renderPdf(opts: Omit<RenderReportOptions, "pdf">): Promise<RenderReportResult> {
  return renderReport({ ...opts, pdf: true });
}
