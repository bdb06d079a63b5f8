import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ExternalResourceError, htmlFileToPdf, renderHtml, renderReport } from "./index.js";
import { cssReferences, externalReferences, srcsetUrls } from "./resources.js";

const work = mkdtempSync(join(tmpdir(), "nabla-report-resources-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A template folder from { "report.hbs": …, "partials/x.hbs": …, "style.css": … }. */
function templates(name: string, files: Record<string, string>): string {
  const dir = join(work, name);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  return dir;
}

async function refusal(files: Record<string, string>, data: object = {}): Promise<ExternalResourceError> {
  const dir = templates(`t${readdirSync(work).length}`, files);
  const error = await renderHtml({ templateDir: dir, data }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ExternalResourceError);
  return error as ExternalResourceError;
}

const TAIL = "; a report may only use inline data: URLs and #fragments";
const PIXEL = "data:image/png;base64,iVBORw0KGgo=";

describe("external references are refused before the browser starts, naming the template", () => {
  it("<img src=https://…> in report.hbs, with its line:column", async () => {
    const e = await refusal({ "report.hbs": '<h1>A</h1>\n<p><img src="https://example.com/x.png"></p>' });
    expect(e.message).toBe(`report.hbs:2:14: <img src> loads https://example.com/x.png${TAIL}`);
    expect(e.url).toBe("https://example.com/x.png");
    expect(e.source).toBe("report.hbs:2:14");
  });

  it("<script src> in a partial", async () => {
    const e = await refusal({
      "report.hbs": "{{> extra}}",
      "partials/extra.hbs": "<p>x</p>\n<script src='//cdn.example.com/a.js'></script>",
    });
    expect(e.message).toBe(`partials/extra.hbs:2:14: <script src> loads //cdn.example.com/a.js${TAIL}`);
  });

  it("<link rel=stylesheet href>, a relative file included", async () => {
    const e = await refusal({ "report.hbs": '<link rel="stylesheet" href="theme.css"><p>x</p>' });
    expect(e.message).toBe(`report.hbs:1:30: <link href> loads theme.css${TAIL}`);
  });

  it("a srcset candidate, even beside a data: src", async () => {
    const e = await refusal({
      "report.hbs": `<img src="${PIXEL}" srcset="${PIXEL} 1x, https://example.com/x@2x.png 2x">`,
    });
    expect(e.message).toMatch(/^report\.hbs:1:\d+: <img srcset> loads https:\/\/example\.com\/x@2x\.png;/);
    expect(srcsetUrls(`a.png 1x,${PIXEL} 2x, b.png, c.png`)).toEqual(["a.png", PIXEL, "b.png", "c.png"]);
  });

  it("a <video poster>", async () => {
    const e = await refusal({
      "report.hbs": `<video src="${PIXEL}" poster="http://example.com/p.jpg"></video>`,
    });
    expect(e.message).toMatch(/^report\.hbs:1:\d+: <video poster> loads http:\/\/example\.com\/p\.jpg;/);
  });

  it("CSS url(http…) in style.css and in a style attribute", async () => {
    const css = await refusal({
      "report.hbs": "<p class='x'>x</p>",
      "style.css": ".x { color: red; }\n.x { background: url( 'http://example.com/bg.png' ); }",
    });
    expect(css.message).toBe(`style.css:2:24: CSS url() loads http://example.com/bg.png${TAIL}`);
    const attr = await refusal({
      "report.hbs": '<div style="background-image: url(&quot;https://example.com/a.png&quot;)">x</div>',
    });
    expect(attr.message).toMatch(
      /^(report\.hbs:1:\d+|the HTML rendered from report\.hbs): CSS url\(\) loads https:\/\/example\.com\/a\.png;/,
    );
  });

  it("@import, with and without url()", async () => {
    const e = await refusal({
      "report.hbs": "<p>x</p>",
      "style.css": '@import "https://fonts.example.com/a.css";',
    });
    expect(e.message).toBe(`style.css:1:10: CSS @import loads https://fonts.example.com/a.css${TAIL}`);
    expect(cssReferences("@import url(b.css) print;")).toEqual([{ url: "b.css", what: "CSS @import" }]);
  });

  it("image-set() strings, an SVG <image href> and <object data>", () => {
    expect(cssReferences('a { background: image-set("https://e.com/1.png" 1x, url(2.png) 2x) }')).toEqual([
      { url: "2.png", what: "CSS url()" },
      { url: "https://e.com/1.png", what: "CSS image-set()" },
    ]);
    const refs = externalReferences(
      '<svg><image href="https://e.com/i.svg"/><rect fill="url(https://e.com/g.svg#p)"/></svg><object data="x.pdf"></object>',
    );
    expect(refs.map((r) => `${r.what} ${r.url}`)).toEqual([
      "<image href> https://e.com/i.svg",
      "CSS url() https://e.com/g.svg#p",
      "<object data> x.pdf",
    ]);
  });

  it("a URL that came from the data names the rendered HTML; renderReport names the output file", async () => {
    const files = { "report.hbs": '<img src="{{figure}}">' };
    const data = { figure: "https://example.com/from-data.png" };
    const e = await refusal(files, data);
    expect(e.message).toBe(`the HTML rendered from report.hbs: <img src> loads ${data.figure}${TAIL}`);
    const outDir = join(work, "out-from-data");
    // /bin/true "browser": had the check run in the browser, the launch would fail with another message.
    const viaReport = renderReport({
      templateDir: templates("from-data", files),
      data,
      outDir,
      executablePath: "/bin/true",
    });
    await expect(viaReport).rejects.toThrow(
      `${join(outDir, "report.html")}: <img src> loads ${data.figure}${TAIL}`,
    );
    expect(existsSync(outDir)).toBe(false);
  });

  it("counts the rest, and lets data: URLs, #fragments, text and comments through", async () => {
    const e = await refusal({
      "report.hbs": '<img src="a.png"><img src="b.png"><a href="https://e.com">e</a>',
    });
    expect(e.message).toBe(`report.hbs:1:11: <img src> loads a.png (+2 more)${TAIL}`);
    const dir = templates("inline-only", {
      "report.hbs": `<a href="#sec">see</a><img src="${PIXEL}"><!-- <img src="https://e.com/x.png"> -->
<p>Write url(https://e.com) or src="https://e.com" in prose.</p><svg><use href="#g"/><rect clip-path="url(#c)"/></svg>`,
    });
    await expect(renderHtml({ templateDir: dir, data: {} })).resolves.toContain('href="#sec"');
  });
});

describe("the browser's net: what only the page sees still fails the print", () => {
  it("a CSS url() written with an escape (u\\72l) passes the static check; its CSP violation fails the print", async () => {
    const dir = templates("escaped-url", {
      "report.hbs": '<p class="bg">text</p>',
      "style.css": ".bg { background-image: u\\72l(https://example.com/hidden.png); }",
    });
    await expect(renderHtml({ templateDir: dir, data: {} })).resolves.toContain("hidden.png");
    const outDir = join(work, "out-escaped");
    await expect(renderReport({ templateDir: dir, data: {}, outDir })).rejects.toThrow(
      `${join(outDir, "report.html")} tried to load https://example.com/hidden.png (refused by its Content-Security-Policy: img-src); only file: and data: URLs are allowed`,
    );
    expect(existsSync(join(outDir, "report.html"))).toBe(false);
  });

  it("a page whose CSP blocks an image fails, though request interception never sees the request", async () => {
    const htmlPath = join(work, "csp.html");
    writeFileSync(
      htmlPath,
      `<html><head><meta http-equiv="Content-Security-Policy" content="img-src data:"></head><body><img src="https://example.com/csp.png"></body></html>`,
    );
    await expect(htmlFileToPdf(htmlPath, join(work, "csp.pdf"))).rejects.toThrow(
      /csp\.html tried to load https:\/\/example\.com\/csp\.png \(refused by its Content-Security-Policy: img-src\)/,
    );
    expect(existsSync(join(work, "csp.pdf"))).toBe(false);
  });

  it("a file that does not exist fails the print naming it", async () => {
    const htmlPath = join(work, "missing-file.html");
    writeFileSync(htmlPath, '<html><body><img src="nowhere.png"></body></html>');
    await expect(htmlFileToPdf(htmlPath, join(work, "missing-file.pdf"))).rejects.toThrow(
      /missing-file\.html tried to load file:\/\/\S*\/nowhere\.png \(net::ERR_FILE_NOT_FOUND\)/,
    );
  });
});
