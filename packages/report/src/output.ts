import { statSync } from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { hasCode, removeStaleTemps, tempPathFor } from "@nabla/io";
import { ReportError } from "./errors.js";

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? String((error as Error).message ?? error);
}

/**
 * Fails at once, naming the folder, when the report could not be written to `outDir` (absolute): it is a
 * file, a parent of it is a file, or the nearest existing folder refuses a new file. Checked by writing a
 * probe file, because as root access(W_OK) says yes even where creating a file fails (/proc, /sys).
 * Nothing is created: a missing folder is made only when the report is written.
 */
export async function checkOutDir(outDir: string): Promise<void> {
  let dir = outDir;
  for (;;) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(dir).isDirectory();
    } catch (error) {
      // ENOTDIR: some parent is a file; walking up finds it.
      if ((hasCode(error, "ENOENT") || hasCode(error, "ENOTDIR")) && dirname(dir) !== dir) {
        dir = dirname(dir);
        continue;
      }
      throw new ReportError(`output folder ${outDir} cannot be used: ${dir}: ${errorCode(error)}`);
    }
    if (isDirectory) break;
    throw new ReportError(
      dir === outDir
        ? `output folder ${outDir} is a file, expected a folder`
        : `output folder ${outDir} cannot be created: ${dir} is a file`,
    );
  }
  const probe = tempPathFor(join(dir, "write-probe"));
  try {
    await (await open(probe, "wx")).close();
  } catch (error) {
    throw new ReportError(
      `output folder ${outDir} is not writable: cannot create a file in ${dir} (${errorCode(error)})`,
    );
  } finally {
    await rm(probe, { force: true });
  }
}

/** Writes a temp sibling of `target` (flushed to disk) and returns its path; renamed later by the caller. */
async function writeTemp(target: string, data: string | Uint8Array): Promise<string> {
  const temp = tempPathFor(target);
  try {
    const handle = await open(temp, "w");
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  return temp;
}

/**
 * Replaces the HTML and (when `printPdf` is given) the PDF as a pair: the HTML is written to a temp file,
 * the PDF printed and written to another, and only when both exist are they renamed into place — the PDF
 * first, the HTML last, so a new HTML always means a new PDF (a crash between the two renames can only leave
 * the new PDF beside the old HTML, never new numbers in the HTML beside an old PDF). On any failure both
 * temp files are removed and the old pair is untouched.
 */
export async function writePair<T extends { pdf: Uint8Array }>(
  htmlPath: string,
  html: string,
  pdfPath: string,
  printPdf: () => Promise<T>,
): Promise<T> {
  const dir = dirname(htmlPath);
  await mkdir(dir, { recursive: true });
  removeStaleTemps(dir);
  const temps: string[] = [];
  try {
    const htmlTemp = await writeTemp(htmlPath, html);
    temps.push(htmlTemp);
    const printed = await printPdf();
    const pdfTemp = await writeTemp(pdfPath, printed.pdf);
    temps.push(pdfTemp);
    await rename(pdfTemp, pdfPath);
    await rename(htmlTemp, htmlPath);
    return printed;
  } finally {
    // After the renames these are gone already; after a failure they are the only trace of this render.
    for (const temp of temps) await rm(temp, { force: true });
  }
}
