import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import puppeteer from "puppeteer-core";
import { findBrowser } from "./browser.js";
import { ReportError } from "./errors.js";
import { writeFileAtomic } from "./fs.js";

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
  /** Page margins; default 18 mm sides, 16 mm top, 20 mm bottom (room for the footer). */
  margin?: { top: string; right: string; bottom: string; left: string };
}

export const DEFAULT_FOOTER = `<div style="width:100%;font-family:'DejaVu Sans','Liberation Sans',sans-serif;font-size:8pt;color:#555;text-align:center;">
<span class="pageNumber"></span> / <span class="totalPages"></span></div>`;

/** Number of pages in a PDF produced by Chromium (counts the /Type /Page objects). */
export function countPdfPages(pdf: Uint8Array): number {
  const text = Buffer.from(pdf).toString("latin1");
  return (text.match(/\/Type\s*\/Page(?![a-zA-Z])/g) ?? []).length;
}

/**
 * Prints an HTML file to an A4 PDF with headless Chromium. The page may only load file: and data: URLs;
 * anything else is aborted and reported as an error (a report must render offline and identically).
 */
export async function htmlFileToPdf(
  htmlPath: string,
  pdfPath: string,
  opts: PdfOptions = {},
): Promise<{ pdfPath: string; pageCount: number }> {
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
    const blocked: string[] = [];
    await page.setRequestInterception(true);
    page.on("request", (request) => {
      const url = request.url();
      if (url.startsWith("file:") || url.startsWith("data:")) {
        void request.continue();
      } else {
        blocked.push(url);
        void request.abort("blockedbyclient");
      }
    });
    await page.goto(pathToFileURL(htmlPath).href, { waitUntil: "load", timeout: 60_000 });
    await page.evaluate("document.fonts.ready.then(() => true)");
    if (blocked.length > 0) {
      throw new ReportError(
        `${htmlPath} tried to load ${blocked[0]}${blocked.length > 1 ? ` (+${blocked.length - 1} more)` : ""}; only file: and data: URLs are allowed`,
      );
    }
    const pdf = await page.pdf({
      format: "A4",
      printBackground: true,
      displayHeaderFooter: true,
      headerTemplate: "<span></span>",
      footerTemplate: opts.footerTemplate ?? DEFAULT_FOOTER,
      margin: opts.margin ?? { top: "16mm", right: "18mm", bottom: "20mm", left: "18mm" },
      timeout: 120_000,
    });
    await writeFileAtomic(pdfPath, pdf);
    return { pdfPath, pageCount: countPdfPages(pdf) };
  } catch (error) {
    if (error instanceof ReportError) throw error;
    const message = (error as Error).message?.split("\n")[0] ?? String(error);
    throw new ReportError(`printing ${htmlPath} with ${executablePath} failed: ${message}`);
  } finally {
    await browser?.close();
    await rm(userDataDir, { recursive: true, force: true });
  }
}
