/**
 * A static file server on 127.0.0.1 for the example, the Chromium tests and the bench. Cross-origin isolated
 * (COOP same-origin + COEP require-corp, which unlock SharedArrayBuffer and so the GEMM helper thread) or
 * plain, so both of @nabla/ndarray's browser paths can be served from the same files.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, resolve, sep } from "node:path";

const MIME_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".wasm": "application/wasm", // WebAssembly.instantiateStreaming insists on it
  ".bin": "application/octet-stream",
};

export interface StaticServerOptions {
  root: string;
  /** Send COOP: same-origin and COEP: require-corp (default true). */
  crossOriginIsolated?: boolean;
  /** 0 (default) picks a free port. */
  port?: number;
}

export interface StaticServer {
  /** http://127.0.0.1:<port>/ */
  url: string;
  close(): Promise<void>;
}

/** The file under `root` a URL path names, or null when it would leave root. */
export function resolveUnder(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath.split("?")[0]);
  } catch {
    return null;
  }
  const base = resolve(root);
  const file = resolve(base, `.${normalize(`/${decoded}`)}`);
  return file === base || file.startsWith(base + sep) ? file : null;
}

export async function startStaticServer(options: StaticServerOptions): Promise<StaticServer> {
  const isolated = options.crossOriginIsolated ?? true;
  const server: Server = createServer(async (request, response) => {
    const headers: Record<string, string> = { "Cache-Control": "no-store" };
    if (isolated) {
      headers["Cross-Origin-Opener-Policy"] = "same-origin";
      headers["Cross-Origin-Embedder-Policy"] = "require-corp";
    }
    let file = resolveUnder(options.root, request.url ?? "/");
    try {
      if (file !== null && (await stat(file)).isDirectory()) file = join(file, "index.html");
      const info = file === null ? null : await stat(file);
      if (file === null || info === null || !info.isFile()) throw new Error("not found");
      response.writeHead(200, {
        ...headers,
        "Content-Type": MIME_TYPES[extname(file)] ?? "application/octet-stream",
        "Content-Length": String(info.size),
      });
      if (request.method === "HEAD") response.end();
      else createReadStream(file).pipe(response);
    } catch {
      response.writeHead(404, { ...headers, "Content-Type": "text/plain; charset=utf-8" });
      response.end(`not found: ${request.url}\n`);
    }
  });
  await new Promise<void>((done, failed) => {
    server.once("error", failed);
    server.listen(options.port ?? 0, "127.0.0.1", () => done());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
