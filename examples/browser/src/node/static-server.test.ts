import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveUnder, type StaticServer, startStaticServer } from "./static-server.js";

let root: string;
let isolated: StaticServer;
let plain: StaticServer;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "nabla-static-"));
  await writeFile(join(root, "index.html"), "<p>hi</p>");
  await writeFile(join(root, "k.wasm"), new Uint8Array([0, 97, 115, 109]));
  isolated = await startStaticServer({ root });
  plain = await startStaticServer({ root, crossOriginIsolated: false });
});

afterAll(async () => {
  await isolated?.close();
  await plain?.close();
  await rm(root, { recursive: true, force: true });
});

describe("the example's static server", () => {
  it("listens on 127.0.0.1 and serves index.html for /, with COOP/COEP when isolated", async () => {
    expect(isolated.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const response = await fetch(isolated.url);
    expect(await response.text()).toBe("<p>hi</p>");
    expect(response.headers.get("cross-origin-opener-policy")).toBe("same-origin");
    expect(response.headers.get("cross-origin-embedder-policy")).toBe("require-corp");
    const other = await fetch(plain.url);
    expect(other.headers.get("cross-origin-opener-policy")).toBeNull();
  });

  it("serves .wasm as application/wasm (instantiateStreaming needs it) and 404s the rest", async () => {
    expect((await fetch(`${isolated.url}k.wasm`)).headers.get("content-type")).toBe("application/wasm");
    expect((await fetch(`${isolated.url}missing.js`)).status).toBe(404);
  });

  it("never leaves its root", () => {
    expect(resolveUnder("/srv/x", "/../../etc/passwd")).toBe("/srv/x/etc/passwd");
    expect(resolveUnder("/srv/x", "/%2e%2e/%2e%2e/etc/passwd")).toBe("/srv/x/etc/passwd");
    expect(resolveUnder("/srv/x", "/%zz")).toBeNull();
    expect(resolveUnder("/srv/x", "/a/b.js?v=1")).toBe("/srv/x/a/b.js");
  });
});
