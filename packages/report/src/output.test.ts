import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BrowserNotFoundError, ReportError, renderReport } from "./index.js";

const work = mkdtempSync(join(tmpdir(), "nabla-report-output-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function templateDir(name: string, body: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "report.hbs"), body);
  return dir;
}

const pdfText = (path: string) => execFileSync("pdftotext", [path, "-"], { encoding: "utf8" });

describe("a render replaces report.html and report.pdf as a pair", () => {
  const dir = templateDir("pair", "<p>accuracy {{fixed accuracy 3}}</p>");

  async function firstRender(outDir: string) {
    await renderReport({ templateDir: dir, data: { accuracy: 0.25 }, outDir });
    return {
      html: readFileSync(join(outDir, "report.html")),
      pdf: readFileSync(join(outDir, "report.pdf")),
    };
  }

  function expectUnchanged(outDir: string, old: { html: Buffer; pdf: Buffer }) {
    expect(readFileSync(join(outDir, "report.html")).equals(old.html)).toBe(true);
    expect(readFileSync(join(outDir, "report.pdf")).equals(old.pdf)).toBe(true);
    expect(readdirSync(outDir).sort()).toEqual(["report.html", "report.pdf"]); // no temp file left
  }

  it("keeps the old pair when the browser does not exist", async () => {
    const outDir = join(work, "out-missing-browser");
    const old = await firstRender(outDir);
    expect(pdfText(join(outDir, "report.pdf"))).toContain("accuracy 0.250");
    const again = renderReport({
      templateDir: dir,
      data: { accuracy: 0.75 },
      outDir,
      executablePath: join(work, "no-such-chromium"),
    });
    await expect(again).rejects.toThrow(BrowserNotFoundError);
    await expect(again).rejects.toThrow(/^executablePath \S+no-such-chromium is not a file/);
    expectUnchanged(outDir, old);
  });

  it("keeps the old pair when the browser fails after the new HTML was written to its temp file", async () => {
    const outDir = join(work, "out-broken-browser");
    const old = await firstRender(outDir);
    const again = renderReport({
      templateDir: dir,
      data: { accuracy: 0.75 },
      outDir,
      executablePath: "/bin/false",
    });
    await expect(again).rejects.toThrow(
      new RegExp(`^printing ${join(outDir, "report.html")} with /bin/false failed: `),
    );
    expectUnchanged(outDir, old);
  });

  it("replaces both when both succeed", async () => {
    const outDir = join(work, "out-both");
    const old = await firstRender(outDir);
    await renderReport({ templateDir: dir, data: { accuracy: 0.75 }, outDir });
    expect(readFileSync(join(outDir, "report.html")).equals(old.html)).toBe(false);
    expect(readFileSync(join(outDir, "report.html"), "utf8")).toContain("accuracy 0.750");
    expect(pdfText(join(outDir, "report.pdf"))).toContain("accuracy 0.750");
    expect(readdirSync(outDir).sort()).toEqual(["report.html", "report.pdf"]);
  });

  it("with pdf: false, warns that a PDF in the folder is from an earlier render", async () => {
    const outDir = join(work, "out-html-only");
    await firstRender(outDir);
    const warnings: string[] = [];
    await renderReport({
      templateDir: dir,
      data: { accuracy: 0.5 },
      outDir,
      pdf: false,
      onWarning: (m) => warnings.push(m),
    });
    expect(warnings).toEqual([
      `${join(outDir, "report.pdf")} is from an earlier render (this one had pdf: false)`,
    ]);
  });
});

describe("the output folder is checked before any template work or browser start", () => {
  // A missing template folder and a missing browser would each fail too: the folder must be named first.
  const render = (outDir: string) =>
    renderReport({
      templateDir: join(work, "no-templates-here"),
      data: {},
      outDir,
      executablePath: join(work, "no-such-chromium"),
    });

  it("fails when outDir is a file", async () => {
    const file = join(work, "a-file");
    writeFileSync(file, "x");
    await expect(render(file)).rejects.toThrow(
      new ReportError(`output folder ${file} is a file, expected a folder`),
    );
  });

  it("fails when a parent of outDir is a file", async () => {
    const file = join(work, "another-file");
    writeFileSync(file, "x");
    await expect(render(join(file, "out"))).rejects.toThrow(
      `output folder ${join(file, "out")} cannot be created: ${file} is a file`,
    );
    expect(existsSync(join(file, "out"))).toBe(false);
  });

  // As root, chmod cannot make a folder unwritable; /proc refuses new files to everyone.
  it.runIf(existsSync("/proc/self"))("fails when the folder refuses a new file (/proc)", async () => {
    await expect(render("/proc/nabla-report-out")).rejects.toThrow(
      /^output folder \/proc\/nabla-report-out is not writable: cannot create a file in \/proc \([A-Z]+\)$/,
    );
  });

  it("a folder that does not exist yet is fine, and is made only when the report is written", async () => {
    const outDir = join(work, "later", "out");
    await expect(render(outDir)).rejects.toThrow(/no-such-chromium is not a file/);
    expect(existsSync(join(work, "later"))).toBe(false);
  });
});
