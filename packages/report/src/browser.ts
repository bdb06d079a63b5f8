import { existsSync, readdirSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { BrowserNotFoundError } from "./errors.js";

/** Environment variables as process.env holds them; not Node's ProcessEnv type, so consumers need no @types/node. */
export type Environment = Readonly<Record<string, string | undefined>>;

const HOW_TO_GET_ONE =
  "no Chromium or Chrome found to print the PDF: install one (apt-get install chromium) or set PUPPETEER_EXECUTABLE_PATH";

function isExecutableFile(path: string): boolean {
  try {
    return statSync(path).isFile() && (statSync(path).mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/**
 * A browser that Puppeteer downloaded into its cache (`npx puppeteer browsers install chrome`):
 * <cache>/chrome/linux-<build>/chrome-linux64/chrome or the headless shell, newest build first.
 */
function puppeteerCachedBrowser(env: Environment): string | undefined {
  const cacheDir = env.PUPPETEER_CACHE_DIR ?? join(env.HOME ?? homedir(), ".cache", "puppeteer");
  const layouts: [string, string[]][] = [
    ["chrome", ["chrome-linux64", "chrome"]],
    ["chrome-headless-shell", ["chrome-headless-shell-linux64", "chrome-headless-shell"]],
  ];
  for (const [browser, tail] of layouts) {
    const dir = join(cacheDir, browser);
    if (!existsSync(dir)) continue;
    const builds = readdirSync(dir)
      .filter((d) => d.startsWith("linux"))
      .sort((a, b) => b.localeCompare(a, "en", { numeric: true }));
    for (const build of builds) {
      const candidate = join(dir, build, ...tail);
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  return undefined;
}

function onPath(name: string, env: Environment): string | undefined {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/**
 * The browser used for printing: PUPPETEER_EXECUTABLE_PATH, else Puppeteer's own downloaded browser,
 * else /usr/bin/chromium (`systemPaths`), then chromium, chromium-browser, google-chrome(-stable) on PATH.
 */
export function findBrowser(opts: { env?: Environment; systemPaths?: string[] } = {}): string {
  const env = opts.env ?? process.env;
  const systemPaths = opts.systemPaths ?? ["/usr/bin/chromium"];
  const configured = env.PUPPETEER_EXECUTABLE_PATH;
  if (configured !== undefined && configured !== "") {
    if (!isExecutableFile(configured)) {
      throw new BrowserNotFoundError(`PUPPETEER_EXECUTABLE_PATH=${configured} is not an executable file`);
    }
    return configured;
  }
  const found =
    puppeteerCachedBrowser(env) ??
    systemPaths.find(isExecutableFile) ??
    ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]
      .map((name) => onPath(name, env))
      .find((p) => p !== undefined);
  if (found === undefined) throw new BrowserNotFoundError(HOW_TO_GET_ONE);
  return found;
}
