/**
 * Renders the homework-1 report: results/*.json + the Q1/Q2 checks of @nabla/nn + the Q5 Monte-Carlo
 * estimate -> out/report.html and out/report.pdf. `node dist/render.js [--results DIR] [--out DIR] [--no-pdf]`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { renderReport } from "@nabla/report";
import { computeCheckTables } from "./checks.js";
import { buildReportData } from "./data.js";
import { runQ5MonteCarlo } from "./q5.js";
import { Hw1ReportError, loadHw1Results } from "./results.js";

/** reports/hw1 (this file is src/render.ts or dist/render.js). */
export const HW1_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export interface RenderHw1Options {
  resultsDir?: string;
  /** Where the experiment specs are (default reports/hw1/experiments); used to know the sweep's members. */
  experimentsDir?: string;
  outDir?: string;
  templateDir?: string;
  pdf?: boolean;
  /** Seed of the random inputs of the Q1/Q2 checks (default 0). */
  checksSeed?: number;
  /** Options of the in-process Q5 run when results/q5-monte-carlo.json is absent (tests use fewer samples). */
  q5Samples?: number;
  log?: (line: string) => void;
}

/**
 * Sets the PDF's CreationDate and ModDate to `date` (same length, so the xref offsets stay valid). Chromium
 * stamps the render time, which made every render a new file: turbo hashes the committed out/report.pdf as an
 * input of the report task, so a warm `pnpm report` could never be a full cache hit.
 */
export function stampPdfDate(pdfPath: string, date: Date): void {
  const stamp = date.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  const pdf = readFileSync(pdfPath);
  const text = pdf.toString("latin1");
  const fixed = text.replace(
    /\/(CreationDate|ModDate) \(D:\d{14}/g,
    (_, key: string) => `/${key} (D:${stamp}`,
  );
  if (fixed !== text) writeFileSync(pdfPath, Buffer.from(fixed, "latin1"));
}

/** The start of the newest training run: the date of the data the report shows. */
function newestRun(results: ReturnType<typeof loadHw1Results>): Date {
  const runs = [results.q3, results.q4a, results.q4bii, ...results.sweep].flatMap((g) => g.runs);
  return new Date(Math.max(...runs.map((r) => Date.parse(r.timings.startedAt))));
}

export async function renderHw1(opts: RenderHw1Options = {}) {
  const log = opts.log ?? (() => {});
  const resultsDir = opts.resultsDir ?? join(HW1_ROOT, "results");
  const outDir = opts.outDir ?? join(HW1_ROOT, "out");
  const templateDir = opts.templateDir ?? join(HW1_ROOT, "templates");
  const results = loadHw1Results(resultsDir, opts.experimentsDir ?? join(HW1_ROOT, "experiments"));
  const runs = [results.q3, results.q4a, results.q4bii, ...results.sweep].reduce(
    (n, g) => n + g.runs.length,
    0,
  );
  log(`read ${runs + 1 + (results.q5 === undefined ? 0 : 1)} results files from ${resultsDir}`);
  const checks = computeCheckTables(opts.checksSeed ?? 0);
  log(`Q1/Q2: ${checks.count} gradient checks, ${checks.allPass ? "all pass" : "SOME FAIL"}`);
  const q5ComputedInProcess = results.q5 === undefined;
  const q5 = results.q5 ?? runQ5MonteCarlo(opts.q5Samples === undefined ? {} : { samples: opts.q5Samples });
  log(
    `Q5: ${q5.cells.length} Monte-Carlo cells × ${q5.samples} samples${q5ComputedInProcess ? " (computed now)" : ""}`,
  );
  const data = buildReportData({
    results,
    checks,
    q5,
    q5ComputedInProcess,
  });
  const out = await renderReport({
    templateDir,
    data,
    outDir,
    pdf: opts.pdf ?? true,
    title: "Introduction to Deep Learning — Homework 1 (nabla)",
    onWarning: (message) => log(`WARNING: ${message}`),
  });
  if (out.pdfPath) stampPdfDate(out.pdfPath, newestRun(results));
  log(`wrote ${out.htmlPath}${out.pdfPath ? ` and ${out.pdfPath} (${out.pageCount} pages)` : ""}`);
  return { ...out, data };
}

function parseArgs(argv: string[]): RenderHw1Options {
  const opts: RenderHw1Options = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Hw1ReportError(`${arg} needs a value`);
      return resolve(v);
    };
    if (arg === "--results") opts.resultsDir = value();
    else if (arg === "--out") opts.outDir = value();
    else if (arg === "--templates") opts.templateDir = value();
    else if (arg === "--no-pdf") opts.pdf = false;
    else
      throw new Hw1ReportError(
        `unknown argument ${arg} (use --results DIR, --out DIR, --templates DIR, --no-pdf)`,
      );
  }
  return opts;
}

async function main(): Promise<void> {
  const started = performance.now();
  await renderHw1({ ...parseArgs(process.argv.slice(2)), log: (line) => console.log(`report: ${line}`) });
  console.log(`report: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().catch((error: unknown) => {
    console.error(`report: ${(error as Error).message.split("\n")[0]}`);
    process.exit(1);
  });
}
