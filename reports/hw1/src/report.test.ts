import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  MIXED_DIVERGED_SEEDS,
  MIXED_LR,
  makeFixture,
  SEEDS,
  SWEEP_LRS,
  SWEEP_SEEDS,
  writeFixture,
} from "../test/fixture-results.js";
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
    // Numbers of the fixture: seed 42's test accuracies (Q3, Q4a, Q4b.ii), the original's reported ones, seed 42's
    // best sweep accuracy and Q3 losses.
    for (const number of ["0.4817", "0.4809", "0.5123", "0.4794", "0.4769", "0.4911", "1.8862", "1.2831"]) {
      expect(text).toContain(number);
    }
    // Every headline statistic as the text prints it, computed here from the fixture (see expectedStats).
    const d = out.data;
    for (const s of [d.seeds.q3, d.seeds.q4a, d.seeds.q4bii]) {
      expect(text).toContain(s.testAccuracy.meanSd);
      expect(text).toContain(s.testAccuracy.interval);
      expect(text).toContain(s.finalTrainLoss.meanSd);
    }
    const q3 = expectedStats(d.seeds.q3.perSeed.map((r) => r.testAccuracy));
    expect(text).toContain(`${q3.mean.toFixed(4)} ± ${q3.sd.toFixed(4)}`);
    expect(text).toContain(`[${q3.lo.toFixed(4)}, ${q3.hi.toFixed(4)}]`);
    expect(text).toContain(d.q4bii.gain.testAccuracy.meanSd);
    expect(text).toContain(d.q4bii.gain.testAccuracy.interval);
    expect(text).toContain(d.comparison.tfjsMinusNabla.testAccuracy.meanSd);
    expect(text).toContain(d.q4biii.best?.bestValAccuracy?.meanSd);
    expect(text).toContain("diverged in epoch 1 (3 of 3)");
    expect(text).toContain("diverged for 1 of 3 (epoch 3)");
    expect(text).toContain("seed 2 in epoch 3");
    expect(text).toContain("Appendix — every run seed");
    expect(text).toContain("milestones 5 and 8");
    expect(text).not.toContain("FAIL");
    expect(out.pageCount).toBeGreaterThan(5);
    expect(out.overflowing).toEqual([]); // nothing wider than the page (Chromium would shrink every page)
    // Dated by the newest run (the fixture's), not the render: an unchanged report is an unchanged file.
    expect(readFileSync(out.pdfPath as string, "latin1")).toContain("/CreationDate (D:20261126230000");
    const html = readFileSync(out.htmlPath, "utf8");
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?\s*(https?:|\/\/)/i);
  });

  it("names the missing results file", async () => {
    const resultsDir = join(work, "results-missing");
    writeFixture(resultsDir, makeFixture(), [
      "q4b-ii-seed=1",
      "q4b-ii-seed=2",
      "q4b-ii-seed=3",
      "q4b-ii-seed=42",
      "q4b-ii-seed=4",
      "q4a-crosscheck",
    ]);
    await expect(
      renderHw1({ resultsDir, experimentsDir: NO_SPECS, outDir: join(work, "out-missing"), pdf: false }),
    ).rejects.toThrow(
      /^missing results: \S*q4b-ii-seed=\*\.json, \S*q4a-crosscheck\.json — run the experiments first/,
    );
  });

  it("takes each experiment's members from its spec, ignores stale files and names a missing one", async () => {
    const resultsDir = join(work, "results-spec");
    const experimentsDir = join(work, "experiments");
    mkdirSync(experimentsDir, { recursive: true });
    writeFileSync(
      join(experimentsDir, "q4b-iii.json"),
      JSON.stringify({
        name: "q4b-iii",
        grid: { lr: [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100, 1000], seed: SWEEP_SEEDS },
      }),
    );
    writeFileSync(join(experimentsDir, "q3.json"), JSON.stringify({ name: "q3", grid: { seed: SEEDS } }));
    writeFileSync(
      join(experimentsDir, "q4b-ii.json"),
      JSON.stringify({
        name: "q4b-ii",
        scheduler: { kind: "multistep", milestones: [5, 8], gamma: 0.1 },
        grid: { seed: SEEDS.slice(0, 3) },
      }),
    );
    writeFixture(resultsDir, makeFixture());
    writeFileSync(join(resultsDir, "q4b-iii-lr=0.5-seed=42.json"), "stale, not part of the grid");
    writeFileSync(join(resultsDir, "q3.json"), "stale, from before the seed grid");
    await expect(
      renderHw1({ resultsDir, experimentsDir, outDir: join(work, "out-spec"), pdf: false, q5Samples: 2000 }),
    ).rejects.toThrow(
      /^missing results: \S*q4b-iii-lr=1000-seed=42\.json, \S*q4b-iii-lr=1000-seed=1\.json, \S*q4b-iii-lr=1000-seed=2\.json — /,
    );
    writeFileSync(
      join(experimentsDir, "q4b-iii.json"),
      JSON.stringify({ name: "q4b-iii", grid: { lr: SWEEP_LRS, seed: SWEEP_SEEDS } }),
    );
    const out = await renderHw1({
      resultsDir,
      experimentsDir,
      outDir: join(work, "out-spec"),
      pdf: false,
      q5Samples: 2000,
    });
    expect(out.data.q4biii.count).toBe(SWEEP_LRS.length);
    expect(out.data.seeds.q3.seeds).toEqual(SEEDS);
    // Q4b.ii's spec names three seeds: the paired gain uses those.
    expect(out.data.q4bii.gain.rows.map((r) => r.seed)).toEqual(SEEDS.slice(0, 3));
  });

  it("refuses an experiment with a single seed, naming it", async () => {
    const resultsDir = join(work, "results-one-seed");
    writeFixture(resultsDir, makeFixture(), ["q4a-seed=1", "q4a-seed=2", "q4a-seed=3", "q4a-seed=4"]);
    await expect(
      renderHw1({ resultsDir, experimentsDir: NO_SPECS, pdf: false, outDir: join(work, "out-one") }),
    ).rejects.toThrow(/^q4a: 1 run seed \(\S*q4a-seed=42\.json\); the seed statistics need at least 2/);
  });

  it("names a malformed results file and its field", async () => {
    const fixture = makeFixture();
    const resultsDir = join(work, "results-bad");
    (fixture.q3[0].metrics as { valAccuracy: unknown }).valAccuracy = "high";
    writeFixture(resultsDir, fixture);
    await expect(
      renderHw1({ resultsDir, experimentsDir: NO_SPECS, pdf: false, outDir: join(work, "out-bad") }),
    ).rejects.toThrow(/q3-seed=42\.json.*valAccuracy/);
  });
});

/** Mean, sd (n − 1) and the 95 % t-interval written out directly, with t from a table (R's qt). */
function expectedStats(values: number[]) {
  const T975: Record<number, number> = { 1: 12.7062047, 2: 4.3026527, 4: 2.7764451 };
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const half = (T975[n - 1] * sd) / Math.sqrt(n);
  return { n, mean, sd, lo: mean - half, hi: mean + half };
}

describe("seed statistics from fixture results", () => {
  const fixture = makeFixture();
  const dir = join(work, "results-stats");
  writeFixture(dir, fixture);
  let cached: ReturnType<typeof render> | undefined;
  const data = () => {
    cached ??= render();
    return cached;
  };
  const render = () =>
    renderHw1({
      resultsDir: dir,
      experimentsDir: NO_SPECS,
      outDir: join(work, "out-stats"),
      pdf: false,
      q5Samples: 2000,
    }).then((o) => o.data);
  const bySeed = (runs: typeof fixture.q3) => new Map(runs.map((r) => [r.spec.seed, r]));
  const closeTo = (
    got: { n: number; mean: number; sd: number; lo: number; hi: number },
    want: ReturnType<typeof expectedStats>,
  ) => {
    expect(got.n).toBe(want.n);
    for (const k of ["mean", "sd"] as const) expect(got[k]).toBeCloseTo(want[k], 12);
    // The table's t has 8 significant digits.
    for (const k of ["lo", "hi"] as const) expect(got[k]).toBeCloseTo(want[k], 7);
  };

  it("summarises test accuracy and final training loss over the seeds of Q3, Q4a and Q4b.ii", async () => {
    const d = await data();
    for (const [stats, runs] of [
      [d.seeds.q3, fixture.q3],
      [d.seeds.q4a, fixture.q4a],
      [d.seeds.q4bii, fixture.q4bii],
    ] as const) {
      expect(stats.seeds).toEqual(SEEDS);
      closeTo(stats.testAccuracy, expectedStats(runs.map((r) => r.metrics.testAccuracy as number)));
      closeTo(stats.finalTrainLoss, expectedStats(runs.map((r) => r.metrics.trainLoss[9])));
    }
    expect(d.seeds.q3.testAccuracy.meanSd).toMatch(/^0\.\d{4} ± 0\.\d{4}$/);
  });

  it("pairs Q4b.ii − Q3 and Q4a − Q3 by seed", async () => {
    const d = await data();
    const q3 = bySeed(fixture.q3);
    const diff = (runs: typeof fixture.q3) =>
      runs.map(
        (r) => (r.metrics.testAccuracy as number) - (q3.get(r.spec.seed)?.metrics.testAccuracy as number),
      );
    const gain = diff(fixture.q4bii);
    closeTo(d.q4bii.gain.testAccuracy, expectedStats(gain));
    expect(d.q4bii.gain.rows.map((r) => r.testDifference)).toEqual(gain);
    expect(d.q4bii.gain.testExcludesZero).toBe(true);
    const tfjs = diff(fixture.q4a);
    closeTo(d.comparison.tfjsMinusNabla.testAccuracy, expectedStats(tfjs));
    expect(d.comparison.tfjsMinusNabla.maxAbsTestDifference).toBeCloseTo(Math.max(...tfjs.map(Math.abs)), 12);
    expect(d.comparison.maxTestImagesApart).toBe(8);
    // The original's numbers in our standard deviations.
    const s = expectedStats(fixture.q3.map((r) => r.metrics.testAccuracy as number));
    expect(d.comparison.numpyVsQ3.sds).toBeCloseTo(Math.abs(0.4794 - s.mean) / s.sd, 10);
  });

  it("summarises every sweep point over its seeds, chooses the best on the mean and reports the mixed rate", async () => {
    const d = await data();
    expect(d.q4biii.rows.map((r) => r.n)).toEqual(SWEEP_LRS.map(() => SWEEP_SEEDS.length));
    const best = (lr: number) =>
      fixture.sweep
        .filter((r) => r.spec.lr === lr && r.status === "ok")
        .map((r) => Math.max(...r.metrics.valAccuracy));
    const means = SWEEP_LRS.filter((lr) => lr < MIXED_LR).map((lr) => expectedStats(best(lr)));
    const top = Math.max(...means.map((m) => m.mean));
    expect(d.q4biii.best?.lr).toBe(SWEEP_LRS[means.findIndex((m) => m.mean === top)]);
    closeTo(d.q4biii.best?.bestValAccuracy as never, expectedStats(best(d.q4biii.best?.lr as number)));
    const mixed = d.q4biii.rows.find((r) => r.lr === MIXED_LR);
    expect(mixed?.mixed).toBe(true);
    expect(mixed?.divergedSeeds.map((s) => s.seed)).toEqual(MIXED_DIVERGED_SEEDS);
    closeTo(mixed?.bestValAccuracy as never, expectedStats(best(MIXED_LR)));
    expect(d.q4biii.rows.filter((r) => r.allDiverged).map((r) => r.lr)).toEqual([10, 100]);
    expect(d.q4biii.mixed.map((r) => r.lr)).toEqual([MIXED_LR]);
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
