import { readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

/** A temp file older than this is stale even when its pid is alive (pids are reused). */
export const STALE_TEMP_MS = 10 * 60 * 1000;

const TEMP_NAME = /^\.(.+)\.(\d+)\.([0-9a-f]{8})\.tmp$/;

/** The target name and writer pid encoded in a temp file's name by tempPathFor, or null for other names. */
export function parseTempName(name: string): { target: string; pid: number } | null {
  const m = TEMP_NAME.exec(name);
  return m === null ? null : { target: m[1], pid: Number(m[2]) };
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes the temp files of writes that were killed before their rename: those whose writer process is gone,
 * or that are older than {@link STALE_TEMP_MS}. Never touches other files. Returns the names removed.
 * Errors (an unreadable folder, a file removed meanwhile) are ignored: cleanup must not fail a write.
 */
export function removeStaleTemps(dir: string, now = Date.now()): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const parsed = parseTempName(name);
    if (parsed === null) continue;
    const path = join(dir, name);
    try {
      const stale = !isAlive(parsed.pid) || now - statSync(path).mtimeMs > STALE_TEMP_MS;
      if (stale) {
        rmSync(path, { force: true });
        removed.push(name);
      }
    } catch {
      // Gone already, or not ours to remove.
    }
  }
  return removed;
}
