/** What the Chromium test files share: the built example, its two servers, one Chromium. */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Chromium, launchChromium, openWatchedPage, type WatchedPage } from "../src/node/chromium.js";
import { type StaticServer, startStaticServer } from "../src/node/static-server.js";

export const DIST = join(dirname(fileURLToPath(import.meta.url)), "..", "dist");

export interface BrowserSetup {
  chromium: Chromium;
  /** Sends COOP/COEP: SharedArrayBuffer, so @nabla/ndarray's helper thread. */
  isolated: StaticServer;
  /** No isolation headers: the unshared single-thread WebAssembly build. */
  plain: StaticServer;
  close(): Promise<void>;
}

export async function startBrowserSetup(): Promise<BrowserSetup> {
  if (!existsSync(join(DIST, "check.js"))) {
    throw new Error(`${DIST} has no bundle: build the example first (pnpm build, or node scripts/build.mjs)`);
  }
  const isolated = await startStaticServer({ root: DIST, crossOriginIsolated: true });
  const plain = await startStaticServer({ root: DIST, crossOriginIsolated: false });
  const chromium = await launchChromium();
  return {
    chromium,
    isolated,
    plain,
    async close() {
      await chromium.close();
      await isolated.close();
      await plain.close();
    },
  };
}

/** Opens `url`, waits until `window[flag].state` is no longer "running", returns that outcome. */
export async function pageOutcome<T>(
  setup: BrowserSetup,
  url: string,
  flag: string,
): Promise<{ outcome: { state: string; result?: T; error?: string }; watched: WatchedPage }> {
  const watched = await openWatchedPage(setup.chromium.browser, url);
  try {
    await watched.page.waitForFunction(`window.${flag} && window.${flag}.state !== "running"`, {
      timeout: 0, // the test's own timeout bounds it
      polling: 200,
    });
    const outcome = (await watched.page.evaluate(`window.${flag}`)) as {
      state: string;
      result?: T;
      error?: string;
    };
    return { outcome, watched };
  } finally {
    await watched.page.close();
  }
}
