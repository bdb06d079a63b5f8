/**
 * Headless Chromium for the tests and the bench, started the way @nabla/report prints its PDF (the same
 * BROWSER_ARGS, a fresh user-data-dir), plus a page that records every console error, page error and failed
 * request, so a test can insist there were none.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BROWSER_ARGS } from "@nabla/report";
import puppeteer, { type Browser, type Page } from "puppeteer-core";

export const CHROMIUM_PATH = process.env.PUPPETEER_EXECUTABLE_PATH ?? "/usr/bin/chromium";

export interface Chromium {
  browser: Browser;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Chromium> {
  const userDataDir = await mkdtemp(join(tmpdir(), "nabla-example-chromium-"));
  try {
    const browser = await puppeteer.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      userDataDir,
      args: BROWSER_ARGS,
      timeout: 120_000,
      protocolTimeout: 600_000, // a busy 2-core machine can take minutes over one training run
    });
    return {
      browser,
      async close() {
        await browser.close();
        await rm(userDataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(userDataDir, { recursive: true, force: true });
    throw error;
  }
}

export interface WatchedPage {
  page: Page;
  /** Console errors, uncaught page errors, failed requests and HTTP errors, in order. */
  problems: string[];
  /** Every console line (for a failing test's message). */
  console: string[];
}

export async function openWatchedPage(browser: Browser, url: string): Promise<WatchedPage> {
  const page = await browser.newPage();
  const problems: string[] = [];
  const lines: string[] = [];
  page.on("console", (message) => {
    lines.push(`${message.type()}: ${message.text()}`);
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${(error as Error).message ?? String(error)}`));
  page.on("requestfailed", (request) =>
    problems.push(`request failed: ${request.url()} (${request.failure()?.errorText ?? "?"})`),
  );
  page.on("response", (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  // Workers' console output goes to their own targets: listen there too.
  page.on("workercreated", (worker) => {
    worker.on("console", (message) => {
      lines.push(`worker ${message.type()}: ${message.text()}`);
      if (message.type() === "error") problems.push(`worker console error: ${message.text()}`);
    });
  });
  page.setDefaultTimeout(600_000);
  await page.goto(url, { waitUntil: "load" });
  return { page, problems, console: lines };
}
