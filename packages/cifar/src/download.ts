import { createHash } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import { CifarDataError, describeError, formatCount } from "./errors.js";
import { tempPathFor } from "./fsutil.js";
import type { ProgressListener } from "./progress.js";

export interface DownloadOptions {
  /** Abort when no response headers arrive within this time (default 15 s). */
  connectTimeoutMs?: number;
  /** Abort when no body bytes arrive for this long (default 60 s). */
  stallTimeoutMs?: number;
  /** Lower-case hex md5 the downloaded bytes must have. */
  expectedMd5?: string;
  onProgress?: ProgressListener;
}

/**
 * Download `url` to `target`: streamed to a temporary sibling with the md5 computed on the fly, renamed
 * into place only when complete and matching. Any failure (no connection, HTTP error, timeout, connection
 * closed mid-body, short body, md5 mismatch) removes the temporary file and throws a one-line
 * CifarDataError naming the URL.
 */
export async function downloadFile(
  url: string,
  target: string,
  options: DownloadOptions = {},
): Promise<void> {
  const connectTimeoutMs = options.connectTimeoutMs ?? 15_000;
  const stallTimeoutMs = options.stallTimeoutMs ?? 60_000;
  const controller = new AbortController();
  let timeoutReason = "";
  let timer = setTimeout(() => {
    timeoutReason = `no response within ${connectTimeoutMs} ms`;
    controller.abort();
  }, connectTimeoutMs);
  const temp = tempPathFor(target);
  let received = 0;
  let total: number | undefined;
  try {
    let response: Response;
    try {
      response = await fetch(url, { signal: controller.signal, redirect: "follow" });
    } catch (error) {
      throw new CifarDataError(url, `download failed: ${timeoutReason || describeError(error)}`, {
        cause: error,
      });
    }
    if (!response.ok || response.body === null) {
      throw new CifarDataError(url, `download failed: HTTP ${response.status} ${response.statusText}`.trim());
    }
    const length = Number(response.headers.get("content-length"));
    total = Number.isFinite(length) && length > 0 ? length : undefined;
    const md5 = createHash("md5");
    const file = await open(temp, "w");
    const armStall = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timeoutReason = `no data for ${stallTimeoutMs} ms`;
        controller.abort();
      }, stallTimeoutMs);
    };
    try {
      armStall();
      options.onProgress?.({ phase: "download", message: url, done: 0, total, unit: "bytes" });
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        armStall();
        md5.update(chunk);
        await file.write(chunk);
        received += chunk.length;
        options.onProgress?.({ phase: "download", message: url, done: received, total, unit: "bytes" });
      }
    } catch (error) {
      const reason = timeoutReason || describeError(error);
      const of = total === undefined ? "" : ` of ${formatCount(total)}`;
      throw new CifarDataError(
        url,
        `download interrupted after ${formatCount(received)}${of} bytes: ${reason}`,
        {
          cause: error,
        },
      );
    } finally {
      await file.close();
    }
    if (total !== undefined && received !== total) {
      throw new CifarDataError(
        url,
        `download interrupted: connection closed after ${formatCount(received)} of ${formatCount(total)} bytes`,
      );
    }
    const digest = md5.digest("hex");
    if (options.expectedMd5 && digest !== options.expectedMd5) {
      throw new CifarDataError(url, `checksum mismatch: md5 ${digest}, expected ${options.expectedMd5}`);
    }
    await rename(temp, target);
  } finally {
    clearTimeout(timer);
    await rm(temp, { force: true });
  }
}
