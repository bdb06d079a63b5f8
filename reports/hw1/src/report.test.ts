import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeFixture, SWEEP_LRS, writeFixture } from "../test/fixture-results.js";
import { computeCheckTables } from "./checks.js";
import { lrSegments } from "./data.js";
import { renderHw1 } from "./render.js";

/** Tests do not read reports/hw1/experiments: the sweep is whatever the results folder holds. */
const NO_SPECS = "/nonexistent/experiments";
const work = mkdtempSync(join(tmpdir(), "nabla-hw1-test-"));
afterAll(() => {
  if (process.env.HW1_KEEP_TEST_OUTPUT === undefined) rmSync(work, { recursive: true, force: true });
});

describe("hw1 report from fixture results", () => {
  it("renders every question, Figures 1–5 and the fixture's numbers into the PDF", async () => {
    const resultsDir = join(work, "results");
    const outDir = join(work, "out");
    writeFixture(resultsDir, makeFixture());
    const out = await renderHw1({ resultsDir, experimentsDir: NO_SPECS, outDir, q5Samples: 20_000 });
    expect(out.pdfPath && existsSync(out.pdfPath)).toBe(true);
    const text = execFileSync("pdftotext", [out.pdfPath as string, "-"], { encoding: "utf8" }).replace(
      /\s+/g,
      " ",
    );
    for (const heading of [
      "Question 1 — Matrix derivatives",
      "1.a",
      "1.b",
      "1.c",
      "1.d",
      "Question 2 — Backward passes of the modules",
      "2.a Linear module",
      "2.b Element-wise activation and ReLU",
      "2.c Softmax and cross-entropy",
      "Question 3 — The MLP with an explicit backward pass",
      "Question 4 — Automatic differentiation and the learning rate",
      "4.a The same MLP with automatic differentiation",
      "4.b.i What the learning rate does",
      "4.b.ii A MultiStepLR schedule",
      "4.b.iii–iv A sweep over 9 learning rates",
      "Question 5 — The second moment of a ReLU",
    ]) {
      expect(text).toContain(heading);
    }
    for (let n = 1; n <= 5; n++) expect(text).toMatch(new RegExp(`Figure ${n}\\. Question`));
    // Numbers of the fixture: Q3/Q4a/Q4b.ii test accuracies, the original's reported ones, the sweep's best.
    for (const number of ["0.4817", "0.4809", "0.5123", "0.4794", "0.4769", "0.4911", "1.8862", "1.2831"]) {
      expect(text).toContain(number);
    }
    expect(text).toContain("diverged in epoch 1");
    expect(text).toContain("milestones 5 and 8");
    expect(text).not.toContain("FAIL");
    expect(out.pageCount).toBeGreaterThan(5);
    expect(out.overflowing).toEqual([]); // nothing wider than the page (Chromium would shrink every page)
    const html = readFileSync(out.htmlPath, "utf8");
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?\s*(https?:|\/\/)/i);
  });

  it("names the missing results file", async () => {
    const resultsDir = join(work, "results-missing");
    writeFixture(resultsDir, makeFixture(), ["q4b-ii", "q4a-crosscheck"]);
    await expect(
      renderHw1({ resultsDir, experimentsDir: NO_SPECS, outDir: join(work, "out-missing"), pdf: false }),
    ).rejects.toThrow(
      /^missing results: \S*q4b-ii\.json, \S*q4a-crosscheck\.json — run the experiments first/,
    );
  });

  it("takes the sweep's members from its spec and names a missing one", async () => {
    const resultsDir = join(work, "results-spec");
    const experimentsDir = join(work, "experiments");
    mkdirSync(experimentsDir, { recursive: true });
    writeFileSync(
      join(experimentsDir, "q4b-iii.json"),
      JSON.stringify({
        name: "q4b-iii",
        grid: { lr: [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100, 1000] },
      }),
    );
    writeFixture(resultsDir, makeFixture());
    writeFileSync(join(resultsDir, "q4b-iii-lr=0.5.json"), "stale, not part of the grid");
    await expect(
      renderHw1({ resultsDir, experimentsDir, outDir: join(work, "out-spec"), pdf: false, q5Samples: 2000 }),
    ).rejects.toThrow(/^missing results: \S*q4b-iii-lr=1000\.json — /);
    writeFileSync(
      join(experimentsDir, "q4b-iii.json"),
      JSON.stringify({ name: "q4b-iii", grid: { lr: SWEEP_LRS } }),
    );
    const out = await renderHw1({
      resultsDir,
      experimentsDir,
      outDir: join(work, "out-spec"),
      pdf: false,
      q5Samples: 2000,
    });
    expect(out.data.q4biii.count).toBe(SWEEP_LRS.length);
  });

  it("names a malformed results file and its field", async () => {
    const fixture = makeFixture();
    const resultsDir = join(work, "results-bad");
    (fixture.q3.metrics as { valAccuracy: unknown }).valAccuracy = "high";
    writeFixture(resultsDir, fixture);
    await expect(
      renderHw1({ resultsDir, experimentsDir: NO_SPECS, pdf: false, outDir: join(work, "out-bad") }),
    ).rejects.toThrow(/q3\.json.*valAccuracy/);
  });
});

describe("report data", () => {
  it("splits a learning-rate trace into constant segments", () => {
    expect(lrSegments([0.1, 0.1, 0.01, 0.01, 0.01, 0.001])).toEqual([
      { from: 1, to: 2, lr: 0.1, lrLabel: "1e-1" },
      { from: 3, to: 5, lr: 0.01, lrLabel: "1e-2" },
      { from: 6, to: 6, lr: 0.001, lrLabel: "1e-3" },
    ]);
  });

  it("gets every Q1/Q2 check from @nabla/nn, all within tolerance", () => {
    const tables = computeCheckTables(0);
    expect(tables.q1.b.shape).toBe("4×5");
    expect(tables.q2.linear.map((r) => r.quantity)).toEqual([
      "\\partial L/\\partial\\mathbf{X}",
      "\\partial L/\\partial\\mathbf{W}",
      "\\partial L/\\partial\\mathbf{b}",
    ]);
    expect(tables.q2.mlp.length).toBe(4);
    expect(tables.allPass).toBe(true);
  });
});
