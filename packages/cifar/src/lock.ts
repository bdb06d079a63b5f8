import { readFile, rm, stat, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { CifarDataError, describeError } from "./errors.js";
import { hasCode } from "./fsutil.js";

export interface LockOptions {
  /** Give up waiting for another process after this long (default 15 minutes). */
  waitMs?: number;
  /** A lock older than this is stale even if its process seems alive (default 2 hours). */
  staleMs?: number;
  /** Poll interval while waiting (default 500 ms). */
  pollMs?: number;
  /** Called once when we start waiting for another process. */
  onWait?: (holder: string) => void;
}

interface LockContent {
  pid: number;
  host: string;
  time: number;
}

/**
 * Take an exclusive lock file (created with O_EXCL, holding {pid, host, time} as JSON) so that two processes
 * never fetch into the same folder at once. A lock is stale — and is removed — when its holder runs on
 * this host and no longer exists, when it is older than `staleMs`, or when its content is unreadable and
 * its age cannot be known. Returns the release function.
 */
export async function acquireLock(lockPath: string, options: LockOptions = {}): Promise<() => Promise<void>> {
  const waitMs = options.waitMs ?? 15 * 60_000;
  const staleMs = options.staleMs ?? 2 * 3_600_000;
  const pollMs = options.pollMs ?? 500;
  const started = Date.now();
  let announced = false;
  const mine: LockContent = { pid: process.pid, host: hostname(), time: Date.now() };
  for (;;) {
    try {
      await writeFile(lockPath, JSON.stringify(mine), { flag: "wx" });
      return async () => {
        await rm(lockPath, { force: true });
      };
    } catch (error) {
      if (!hasCode(error, "EEXIST")) {
        throw new CifarDataError(lockPath, `cannot create lock file: ${describeError(error)}`, {
          cause: error,
        });
      }
    }
    const holder = await readLock(lockPath);
    if (holder === "gone") continue;
    if (isStale(holder, staleMs)) {
      await rm(lockPath, { force: true });
      continue;
    }
    if (Date.now() - started > waitMs) {
      const who = holder ? `pid ${holder.pid} on ${holder.host}` : "an unknown process";
      throw new CifarDataError(
        lockPath,
        `locked by ${who} for over ${Math.round(waitMs / 1000)} s; remove the file if no fetch is running`,
      );
    }
    if (!announced && holder) {
      announced = true;
      options.onWait?.(`pid ${holder.pid} on ${holder.host}`);
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

async function readLock(lockPath: string): Promise<LockContent | null | "gone"> {
  try {
    const value = JSON.parse(await readFile(lockPath, "utf8")) as Partial<LockContent>;
    if (typeof value.pid === "number" && typeof value.host === "string" && typeof value.time === "number") {
      return value as LockContent;
    }
    return await garbageLock(lockPath);
  } catch (error) {
    if (hasCode(error, "ENOENT")) return "gone";
    return await garbageLock(lockPath);
  }
}

/**
 * Unparseable content: either a holder between creating and writing the file (young), or garbage left by a
 * crash (old). Report a young one as held by an unknown live process, an old one as stale (null).
 */
async function garbageLock(lockPath: string): Promise<LockContent | null | "gone"> {
  try {
    const info = await stat(lockPath);
    if (Date.now() - info.mtimeMs > 5_000) return null;
    return { pid: -1, host: "(unknown host)", time: info.mtimeMs };
  } catch {
    return "gone";
  }
}

function isStale(holder: LockContent | null, staleMs: number): boolean {
  if (holder === null) return true;
  if (Date.now() - holder.time > staleMs) return true;
  if (holder.host !== hostname() || holder.pid < 0) return false; // cannot probe a pid on another machine
  if (holder.pid === process.pid) return false; // ourselves, e.g. two fetches in one process: wait
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    return hasCode(error, "ESRCH");
  }
}
