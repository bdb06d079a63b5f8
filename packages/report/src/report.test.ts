import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  BrowserNotFoundError,
  chartToSvg,
  findBrowser,
  htmlFileToPdf,
  renderHtml,
  renderReport,
  TemplateError,
} from "./index.js";

const fixtureDir = join(dirname(fileURLToPath(import.meta.url)), "..", "test", "fixtures", "basic");
const work = mkdtempSync(join(tmpdir(), "nabla-report-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function lossChart(values: number[]) {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    width: 360,
    height: 180,
    data: { values: values.map((loss, i) => ({ epoch: i + 1, loss })) },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "epoch", type: "quantitative", title: "epoch" },
      y: { field: "loss", type: "quantitative", title: "train loss" },
    },
  };
}

function fixtureData(): Record<string, unknown> {
  return {
    title: "Fixture report",
    answer: 0.123456,
    rate: 0.4794,
    count: 45000,
    step: 1.5e-5,
    sigma2: 2.25,
    lossChart: lossChart([1.9, 1.55, 1.48, 1.42]),
    rows: [
      { name: "alpha", value: Math.PI },
      { name: "beta", value: Math.E },
    ],
    checks: [
      {
        quantity: "\\partial L/\\partial W",
        shape: "3×4",
        analytical: [0.1, -0.25],
        numerical: [0.1, -0.25],
        maxRelError: 3.2e-10,
        tolerance: 1e-6,
      },
    ],
    note: { text: "A note from a partial", tags: ["x", "y"] },
  };
}

/** Makes a one-file template folder in the temp dir. */
function templateDirWith(name: string, body: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "report.hbs"), body);
  return dir;
}

describe("renderHtml", () => {
  it("renders numbers, math, numbered figures/tables/equations and forward references", async () => {
    const html = await renderHtml({ templateDir: fixtureDir, data: fixtureData(), title: "Fixture" });
    expect(html).toContain("The answer is 0.1235, the rate 47.94 %, the count 45\u2009000");
    expect(html).toContain("1.50 × 10<sup>−5</sup>");
    expect(html).toContain("See Figure 1, Table 1 and Equation 1.");
    expect(html).toContain('<span class="caption-label">Figure 1.</span> Loss per epoch of the fixture run');
    expect(html).toContain(
      '<span class="caption-label">Table 2.</span> Analytical against numerical gradients',
    );
    expect(html).toContain('class="katex-display"');
    expect(html).toContain("✓ pass");
    expect(html).toContain("<svg");
    expect(html).toMatch(/\.note\s*\{\s*font-style: italic;\s*\}/);
    expect(html).toContain("A note from a partial (x, y)");
  });

  it("references no external URL: no http(s) in src/href, every CSS url() is data:", async () => {
    const html = await renderHtml({ templateDir: fixtureDir, data: fixtureData() });
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?\s*(https?:|\/\/)/i);
    const urls = [...html.matchAll(/url\(\s*["']?([^"')]*)/g)].map((m) => m[1]);
    expect(urls.length).toBeGreaterThan(10); // the KaTeX fonts
    for (const url of urls) expect(url.startsWith("data:") || url.startsWith("#")).toBe(true);
  });

  it("fails on a missing top-level variable, naming it and the template", async () => {
    const data = fixtureData();
    delete data.answer;
    await expect(renderHtml({ templateDir: fixtureDir, data })).rejects.toThrow(
      /report\.hbs:3:\d+: missing variable "answer"/,
    );
  });

  it("names the full path and the partial file when a nested variable is missing", async () => {
    const data = { ...fixtureData(), note: { tags: [] } };
    const error = await renderHtml({ templateDir: fixtureDir, data }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TemplateError);
    expect((error as TemplateError).templateFile).toBe("partials/note.hbs");
    expect((error as TemplateError).variable).toBe("note.text");
    expect((error as Error).message).toMatch(/^partials\/note\.hbs:1:\d+: missing variable "note\.text"$/);
  });

  it("is strict inside #each and for helper arguments and #if", async () => {
    const data = { ...fixtureData(), rows: [{ name: "a", value: 1 }, { name: "b" }] };
    await expect(renderHtml({ templateDir: fixtureDir, data })).rejects.toThrow(/missing variable "value"/);
    const dir = templateDirWith("strict-if", "{{#if shown}}yes{{/if}}");
    await expect(renderHtml({ templateDir: dir, data: {} })).rejects.toThrow(
      /^report\.hbs:1:7: missing variable "shown"$/,
    );
    const body = (html: string) => html.slice(html.indexOf("<body>"));
    expect(body(await renderHtml({ templateDir: dir, data: { shown: null } }))).not.toContain("yes");
    expect(body(await renderHtml({ templateDir: dir, data: { shown: true } }))).toContain("yes");
  });

  it("surfaces TeX that KaTeX rejects, with the template file and the line:column of the call", async () => {
    const dir = templateDirWith("bad-tex", '<p>{{tex "\\fracc{a}{b}"}}</p>');
    await expect(renderHtml({ templateDir: dir, data: {} })).rejects.toThrow(
      /^report\.hbs:1:4: KaTeX parse error: Undefined control sequence: \\fracc/,
    );
    const block = templateDirWith("bad-tex-block", "<p>ok</p>\n<p>see {{#texd}}x^{ {{n}}{{/texd}}</p>");
    await expect(renderHtml({ templateDir: block, data: { n: 2 } })).rejects.toThrow(
      /^report\.hbs:2:8: KaTeX parse error: Expected '}', got 'EOF'/,
    );
  });

  it("places bad TeX inside a built-in partial at the partial's call, in the calling file", async () => {
    const dir = templateDirWith("bad-equation", "{{> part}}");
    mkdirSync(join(dir, "partials"));
    writeFileSync(
      join(dir, "partials", "part.hbs"),
      '{{#> section id="s" title="S"}}\n<p>{{tex "a"}}</p>\n  {{#> equation id="e"}}\\alpha + \\betaa{{/equation}}\n{{/section}}',
    );
    const error = await renderHtml({ templateDir: dir, data: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TemplateError);
    expect((error as TemplateError).templateFile).toBe("partials/part.hbs");
    expect((error as Error).message).toMatch(
      /^partials\/part\.hbs:3:3: KaTeX parse error: Undefined control sequence: \\betaa/,
    );
    const rows = [
      {
        quantity: "\\partial L/\\partail W",
        shape: "1",
        analytical: [1],
        numerical: [1],
        maxRelError: 0,
        tolerance: 1,
      },
    ];
    const table = templateDirWith(
      "bad-row",
      '<p>x</p>\n{{> verification-table id="t" caption="c" rows=rows}}',
    );
    await expect(renderHtml({ templateDir: table, data: { rows } })).rejects.toThrow(
      /^report\.hbs:2:1: KaTeX parse error: Undefined control sequence: \\partail/,
    );
  });

  it("rejects a reference to an unknown figure and a duplicate id", async () => {
    const unknown = templateDirWith("bad-ref", 'See {{ref "fig-nope"}}');
    await expect(renderHtml({ templateDir: unknown, data: {} })).rejects.toThrow(
      /no figure, table or equation/,
    );
    const dup = templateDirWith(
      "dup-id",
      '{{#> figure id="a" caption="x"}}1{{/figure}}{{#> figure id="a" caption="y"}}2{{/figure}}',
    );
    await expect(renderHtml({ templateDir: dup, data: {} })).rejects.toThrow(/duplicate figure id "a"/);
  });

  it("rejects a figure without a caption and a non-number given to a number helper", async () => {
    const noCaption = templateDirWith("no-caption", '{{#> figure id="a"}}1{{/figure}}');
    await expect(renderHtml({ templateDir: noCaption, data: {} })).rejects.toThrow(/figure needs caption=/);
    const notNumber = templateDirWith("not-number", "{{fixed x 2}}");
    await expect(renderHtml({ templateDir: notNumber, data: { x: "0.5" } })).rejects.toThrow(
      /\{\{fixed\}\} expects a number, got string/,
    );
  });

  it("says which folder lacks report.hbs", async () => {
    await expect(renderHtml({ templateDir: join(work, "nothing-here"), data: {} })).rejects.toThrow(
      /nothing-here has no report\.hbs/,
    );
  });
});

describe("charts", () => {
  it("compiles vega-lite to SVG in Node with per-chart unique ids", async () => {
    const a = await chartToSvg(lossChart([3, 2, 1]) as never, { idPrefix: "a-" });
    const b = await chartToSvg(lossChart([1, 2, 3]) as never, { idPrefix: "b-" });
    expect(a.startsWith("<svg")).toBe(true);
    expect(a).toContain("train loss");
    const ids = (svg: string) => [...svg.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
    expect(ids(a).every((id) => id.startsWith("a-"))).toBe(true);
    for (const id of ids(a)) expect(ids(b)).not.toContain(id);
  });

  it("fails on a spec that vega-lite warns about instead of drawing something else", async () => {
    const spec = lossChart([1, 2]);
    // vega-lite would silently fall back to a linear scale.
    const ordinalX = {
      ...spec,
      encoding: { ...spec.encoding, x: { ...spec.encoding.x, scale: { type: "ordinal" } } },
    };
    await expect(chartToSvg(ordinalX as never)).rejects.toThrow(
      /vega-lite chart spec: Channel "x" does not work/,
    );
  });

  it("refuses chart data that would be loaded from a URL", async () => {
    const spec = { ...lossChart([1]), data: { url: "https://example.com/data.json" } };
    await expect(chartToSvg(spec as never)).rejects.toThrow(/inline/);
  });
});

describe("browser lookup", () => {
  it("gives a one-line instruction when no browser exists", () => {
    const empty = mkdtempSync(join(work, "no-browser-"));
    const find = () =>
      findBrowser({ env: { PATH: empty, PUPPETEER_CACHE_DIR: empty, HOME: empty }, systemPaths: [] });
    expect(find).toThrow(BrowserNotFoundError);
    expect(find).toThrow(
      /^no Chromium or Chrome found.*apt-get install chromium.*PUPPETEER_EXECUTABLE_PATH$/,
    );
  });

  it("rejects a PUPPETEER_EXECUTABLE_PATH that does not exist", () => {
    expect(() => findBrowser({ env: { PUPPETEER_EXECUTABLE_PATH: "/nonexistent/chrome" } })).toThrow(
      /PUPPETEER_EXECUTABLE_PATH=\/nonexistent\/chrome is not an executable file/,
    );
  });
});

describe("PDF", () => {
  it("writes report.html and report.pdf whose text holds headings, captions and numbers", async () => {
    const outDir = join(work, "out");
    const result = await renderReport({
      templateDir: fixtureDir,
      data: fixtureData(),
      outDir,
      title: "Fixture",
    });
    expect(result.htmlPath).toBe(join(outDir, "report.html"));
    expect(existsSync(join(outDir, "report.pdf"))).toBe(true);
    expect(readFileSync(join(outDir, "report.pdf")).subarray(0, 5).toString()).toBe("%PDF-");
    expect(result.pageCount).toBeGreaterThanOrEqual(1);
    const text = execFileSync("pdftotext", ["-layout", join(outDir, "report.pdf"), "-"], {
      encoding: "utf8",
    });
    for (const expected of [
      "Fixture report",
      "Introduction",
      "Results",
      "Figure 1. Loss per epoch of the fixture run",
      "Table 1. Fixture values",
      "Table 2. Analytical against numerical gradients",
      "0.1235",
      "47.94 %",
      "3.142",
      "train loss",
    ]) {
      expect(text).toContain(expected);
    }
    expect(text).toMatch(new RegExp(`1\\s*/\\s*${result.pageCount}`)); // the footer's page numbers
  });

  it("reports elements wider than the printable page, but not KaTeX's clipped radicals", async () => {
    const wide = templateDirWith(
      "too-wide",
      '<p id="ok">{{tex "\\sqrt{x^2 + y^2}"}}</p><div id="wide-one" style="width: 900px">wide</div>' +
        `{{#> equation id="eq-long"}}${Array.from({ length: 60 }, (_, i) => `x_{${i}}`).join(" + ")}{{/equation}}`,
    );
    const warnings: string[] = [];
    const result = await renderReport({
      templateDir: wide,
      data: {},
      outDir: join(work, "out-wide"),
      onWarning: (m) => warnings.push(m),
    });
    expect(result.overflowing).toContainEqual(expect.stringMatching(/^div in #wide-one \(\+\d+ px\)$/));
    expect(result.overflowing).toContainEqual(
      expect.stringMatching(/^display math in #eq-long \(\+\d+ px\)$/),
    );
    expect(result.overflowing?.some((w) => w.includes("#ok"))).toBe(false);
    expect(warnings[0]).toMatch(/wider than the printable page/);
    const fine = await renderReport({
      templateDir: fixtureDir,
      data: fixtureData(),
      outDir: join(work, "out-fine"),
    });
    expect(fine.overflowing).toEqual([]);
  });

  it("aborts a page that tries to load from the network", async () => {
    const htmlPath = join(work, "network.html");
    writeFileSync(htmlPath, '<html><body><img src="https://example.com/x.png"><p>hi</p></body></html>');
    await expect(htmlFileToPdf(htmlPath, join(work, "network.pdf"))).rejects.toThrow(
      /tried to load https:\/\/example\.com\/x\.png; only file: and data: URLs are allowed/,
    );
    expect(existsSync(join(work, "network.pdf"))).toBe(false);
  });
});
