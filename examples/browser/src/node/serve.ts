/**
 * `pnpm example:browser` (root) / `node scripts/serve.mjs [--port N] [--no-isolation]`: serves the built
 * example on 127.0.0.1, cross-origin isolated unless --no-isolation (then the GEMM runs on one thread), and
 * prints the URL. Runs until Ctrl-C.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startStaticServer } from "./static-server.js";

const dist = join(dirname(fileURLToPath(import.meta.url)), "..");
const portFlag = process.argv.indexOf("--port");
const port = portFlag >= 0 ? Number(process.argv[portFlag + 1]) : Number(process.env.PORT ?? 0);
if (!(Number.isInteger(port) && port >= 0 && port < 65536)) {
  console.error(
    `example:browser: --port must be a port number (0 picks a free one), got ${process.argv[portFlag + 1]}`,
  );
  process.exit(2);
}
const crossOriginIsolated = !process.argv.includes("--no-isolation");

try {
  const server = await startStaticServer({ root: dist, crossOriginIsolated, port });
  console.log(`nabla browser example: ${server.url}`);
  console.log(
    crossOriginIsolated
      ? "  served with COOP/COEP (cross-origin isolated: the GEMM uses 2 threads); Ctrl-C stops"
      : "  served without COOP/COEP (the GEMM runs on one thread); Ctrl-C stops",
  );
  const stop = () => void server.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
} catch (error) {
  console.error(`example:browser: cannot serve on 127.0.0.1:${port}: ${(error as Error).message}`);
  process.exit(1);
}
