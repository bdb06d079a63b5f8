import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { writeFileAtomic } from "@nabla/io";
import puppeteer from "puppeteer-core";
import { findBrowser } from "./browser.js";
import { ReportError } from "./errors.js";

/** Flags for a reproducible, offline, sandbox-less print run (root in containers has no user namespaces). */
export const BROWSER_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface PdfOptions {
  /** Browser executable; default: findBrowser(). */
  executablePath?: string;
  /** Page footer (Puppeteer footerTemplate); default: "page N of M" centred. */
  footerTemplate?: string;
  /** Page margins in mm ("18mm"); default 18 mm sides, 16 mm top, 20 mm bottom (room for the footer). */
  margin?: { top: string; right: string; bottom: string; left: string };
}

export const DEFAULT_MARGIN = { top: "16mm", right: "18mm", bottom: "20mm", left: "18mm" };

function mm(length: string): number {
  const m = /^\s*([\d.]+)\s*mm\s*$/.exec(length);
  if (!m) throw new ReportError(`page margins must be given in mm (like "18mm"), got "${length}"`);
  return Number(m[1]);
}

/**
 * Runs in the page: elements that stick out of the body's width, one per enclosing element with an id
 * ("td.num in #tab-compare (+48 px)"). SVG internals and anything inside an element that clips its overflow
 * (KaTeX draws radicals with very wide clipped SVG paths) do not count.
 */
const OVERFLOW_PROBE = `(() => {
  const limit = document.body.getBoundingClientRect().right + 1;
  const start = document.body.getBoundingClientRect().left - 1;
  const clipped = (el) => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (a instanceof SVGElement) return true;
      const o = getComputedStyle(a).overflowX;
      if (o === "hidden" || o === "clip") return true;
    }
    return false;
  };
  const seen = new Map();
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || (r.right <= limit && r.left >= start)) continue;
    if (clipped(el)) continue;
    const host = el.closest("[id]");
    const key = host ? host.id : "(body)";
    const excess = Math.round(Math.max(r.right - limit, start - r.left));
    if (seen.has(key) && seen.get(key).excess >= excess) continue;
    const cls = typeof el.className === "string" && el.className ? "." + el.className.split(/\\s+/)[0] : "";
    seen.set(key, { excess, text: el.tagName.toLowerCase() + cls + " in #" + key + " (+" + excess + " px)" });
  }
  // Display math wider than its column overlaps the equation number without leaving the page.
  for (const el of document.body.querySelectorAll(".katex-display")) {
    const excess = el.scrollWidth - el.clientWidth;
    if (excess <= 1) continue;
    const host = el.closest("[id]");
    seen.set("math:" + (host ? host.id : "?"), { excess, text: "display math in #" + (host ? host.id : "(body)") + " (+" + excess + " px)" });
  }
  return [...seen.values()].map((v) => v.text);
})()`;

export const DEFAULT_FOOTER = `<div style="width:100%;font-family:'DejaVu Sans','Liberation Sans',sans-serif;font-size:8pt;color:#555;text-align:center;">
<span class="pageNumber"></span> / <span class="totalPages"></span></div>`;

/** Number of pages in a PDF produced by Chromium (counts the /Type /Page objects). */
export function countPdfPages(pdf: Uint8Array): number {
  const text = Buffer.from(pdf).toString("latin1");
  return (text.match(/\/Type\s*\/Page(?![a-zA-Z])/g) ?? []).length;
}

/**
 * Runs in the page before its own content: collects Content-Security-Policy violations. The CSP blocks a load
 * before request interception would see it, and the page only fires this event, so without it an external
 * image (say, from a url() the static check cannot read) would be dropped from the PDF without a word.
 */
const CSP_LISTENER = `(() => {
  const seen = [];
  Object.defineProperty(window, "__nablaCspViolations", { value: seen });
  document.addEventListener("securitypolicyviolation", (e) => {
    seen.push({ url: e.blockedURI || "(unknown)", directive: e.effectiveDirective || e.violatedDirective });
  }, true);
})()`;

/** Lets queued violation events and late loads (backgrounds are fetched at layout) arrive. */
const SETTLE = "new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)))";

interface Printed {
  pdf: Uint8Array;
  pageCount: number;
  overflowing: string[];
}

/** Prints the file at htmlPath; errors name `label` (the file the user knows about). */
async function printFile(htmlPath: string, label: string, opts: PdfOptions): Promise<Printed> {
  const executablePath = opts.executablePath ?? findBrowser();
  const userDataDir = await mkdtemp(join(tmpdir(), "nabla-report-chromium-"));
  let browser: Awaited<ReturnType<typeof puppeteer.launch>> | undefined;
  try {
    browser = await puppeteer.launch({
      executablePath,
      headless: true, // Puppeteer passes --headless (new headless mode)
      userDataDir,
      args: BROWSER_ARGS,
      timeout: 60_000,
    });
    const page = await browser.newPage();
    // URLs that did not load, each with the reason unless interception aborted it.
    const refused: string[] = [];
    const aborted = new Set<string>();
    await page.setRequestInterception(true);
    page.on("request", (request) => {
      const url = request.url();
      if (url.startsWith("file:") || url.startsWith("data:")) {
        void request.continue();
      } else {
        refused.push(url);
        aborted.add(url);
        void request.abort("blockedbyclient");
      }
    });
    page.on("requestfailed", (request) => {
      // Interception's own aborts are listed already.
      if (!aborted.has(request.url())) {
        refused.push(`${request.url()} (${request.failure()?.errorText ?? "failed"})`);
      }
    });
    await page.evaluateOnNewDocument(CSP_LISTENER);
    // Lay the page out as it will be printed (print media, the A4 content width) to find overflow:
    // Chromium would otherwise silently shrink every page to fit the widest element.
    const margin = opts.margin ?? DEFAULT_MARGIN;
    const contentWidthPx = Math.floor(((210 - mm(margin.left) - mm(margin.right)) / 25.4) * 96);
    await page.emulateMediaType("print");
    await page.setViewport({ width: contentWidthPx, height: 1000 });
    await page.goto(pathToFileURL(htmlPath).href, { waitUntil: "load", timeout: 60_000 });
    await page.evaluate("document.fonts.ready.then(() => true)");
    const overflowing = (await page.evaluate(OVERFLOW_PROBE)) as string[];
    await page.evaluate(SETTLE);
    const violations = (await page.evaluate("window.__nablaCspViolations ?? []")) as {
      url: string;
      directive: string;
    }[];
    for (const v of violations) {
      refused.push(`${v.url} (refused by its Content-Security-Policy: ${v.directive})`);
    }
    if (refused.length > 0) {
      const more = refused.length > 1 ? ` (+${refused.length - 1} more)` : "";
      throw new ReportError(
        `${label} tried to load ${refused[0]}${more}; only file: and data: URLs are allowed`,
      );
    }
    const pdf = await page.pdf({
      format: "A4",
      printBackground: true,
      displayHeaderFooter: true,
      headerTemplate: "<span></span>",
      footerTemplate: opts.footerTemplate ?? DEFAULT_FOOTER,
      margin,
      timeout: 120_000,
    });
    return { pdf, pageCount: countPdfPages(pdf), overflowing };
  } catch (error) {
    if (error instanceof ReportError) throw error;
    const message = (error as Error).message?.split("\n")[0] ?? String(error);
    throw new ReportError(`printing ${label} with ${executablePath} failed: ${message}`);
  } finally {
    await browser?.close();
    await rm(userDataDir, { recursive: true, force: true });
  }
}

/**
 * Prints an HTML file to an A4 PDF with headless Chromium. The page may only load file: and data: URLs;
 * anything else is aborted, and anything its Content-Security-Policy refuses is caught too: both fail the
 * print naming the URL (a report must render offline and identically).
 */
export async function htmlFileToPdf(
  htmlPath: string,
  pdfPath: string,
  opts: PdfOptions = {},
): Promise<{ pdfPath: string; pageCount: number; overflowing: string[] }> {
  const { pdf, pageCount, overflowing } = await printFile(htmlPath, htmlPath, opts);
  await writeFileAtomic(pdfPath, pdf);
  return { pdfPath, pageCount, overflowing };
}

/**
 * Prints an HTML document held in memory; errors name `label`. It is loaded from a private temp folder
 * because Chromium reads a file by its extension and would show an atomic-write temp (`.tmp`) as text.
 */
export async function htmlToPdf(html: string, label: string, opts: PdfOptions = {}): Promise<Printed> {
  const dir = await mkdtemp(join(tmpdir(), "nabla-report-html-"));
  try {
    const path = join(dir, "report.html");
    await writeFile(path, html);
    return await printFile(path, label, opts);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
