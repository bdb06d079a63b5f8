/**
 * Issue #15 part 4: the example page in headless Chromium, as a person would use it. Picks a small fixture in
 * the CIFAR-10 binary layout with the file input (written here into a temp dir), trains, and checks that the
 * charts received points and drew marks, the progress line reached the last batch of the last epoch, the
 * kernel line names the GEMM, a file of the wrong size gets a one-line message naming it, and nothing was
 * logged as an error. No timing is asserted.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ElementHandle, Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openWatchedPage, type WatchedPage } from "../src/node/chromium.js";
import { type BrowserSetup, startBrowserSetup } from "./helpers.js";

const RECORD = 3073;

/** `count` records: label i mod 10, pixels a per-class level plus a small ramp (learnable in a few epochs). */
function cifarFixture(count: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(count * RECORD);
  for (let i = 0; i < count; i++) {
    const label = (i + seed) % 10;
    bytes[i * RECORD] = label;
    for (let p = 0; p < 3072; p++) bytes[i * RECORD + 1 + p] = (label * 23 + ((p * 7 + i * 13) % 41)) & 255;
  }
  return bytes;
}

let setup: BrowserSetup;
let dir: string;
const files = { train: "", test: "", bad: "", badLabel: "" };

beforeAll(async () => {
  setup = await startBrowserSetup();
  dir = await mkdtemp(join(tmpdir(), "nabla-example-fixture-"));
  files.train = join(dir, "data_batch_1.bin");
  files.test = join(dir, "test_batch.bin");
  files.bad = join(dir, "data_batch_2.bin");
  await writeFile(files.train, cifarFixture(400, 0));
  await writeFile(files.test, cifarFixture(100, 3));
  await writeFile(files.bad, new Uint8Array(2 * RECORD + 5));
  // the right size, but the second record's label byte is 12: only the worker's full parse finds it
  files.badLabel = join(dir, "labels", "data_batch_3.bin");
  await mkdir(join(dir, "labels"));
  const labels = cifarFixture(2, 0);
  labels[RECORD] = 12;
  await writeFile(files.badLabel, labels);
});

afterAll(async () => {
  await setup?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Mirror {
  state: string;
  lossPoints: number;
  accuracyPoints: number;
  kernel: { kernel: string; threads: number; isa: string } | null;
}

const mirror = (page: Page) => page.evaluate("window.nablaExample") as Promise<Mirror>;
const text = (page: Page, selector: string) =>
  page.$eval(selector, (el) => el.textContent ?? "") as Promise<string>;

async function openExample(server: "isolated" | "plain"): Promise<WatchedPage> {
  const watched = await openWatchedPage(setup.chromium.browser, setup[server].url);
  await watched.page.waitForFunction("window.nablaExample && window.nablaExample.state === 'idle'", {
    timeout: 0,
    polling: 100,
  });
  return watched;
}

async function setValue(page: Page, selector: string, value: string): Promise<void> {
  await page.$eval(
    selector,
    (el, v) => {
      (el as HTMLInputElement).value = v as string;
    },
    value,
  );
}

async function pick(page: Page, ...paths: string[]): Promise<void> {
  const input = (await page.$("#files")) as ElementHandle<HTMLInputElement>;
  await input.uploadFile(...paths);
}

/** Clicks `button`, waits until training has ended, returns the final state. */
async function trainWith(page: Page, button: string): Promise<Mirror> {
  await page.click(button);
  await page.waitForFunction("['done', 'error', 'stopped'].includes(window.nablaExample.state)", {
    timeout: 0,
    polling: 200,
  });
  return mirror(page);
}

describe("the browser example", () => {
  it("trains on picked CIFAR-10 files: charts fill, the progress line reaches the end", async () => {
    const { page, problems, console: lines } = await openExample("isolated");
    const kernel = await text(page, "#kernel");
    expect(kernel).toMatch(
      /GEMM kernel: auto:parallel, wasm-[a-z-]+simd[0-9]*, 2 threads · page cross-origin isolated/,
    );

    await pick(page, files.train, files.test);
    await setValue(page, "#epochs", "3");
    await setValue(page, "#batch-size", "32");
    const end = await trainWith(page, "#train-files");
    expect(end.state, await text(page, "#error")).toBe("done");
    // 360 train images in batches of 32: 12 steps per epoch, and the line ends on the last of them
    expect(await text(page, "#progress")).toMatch(
      /^epoch 3\/3 · batch 12\/12 · done in .+ · test accuracy [\d.]+ %/,
    );
    expect(await text(page, "#data")).toMatch(
      /data_batch_1\.bin, test_batch\.bin: 360 train, 40 validation, 100 test/,
    );
    expect(end.lossPoints).toBeGreaterThanOrEqual(6); // at least each epoch's last step and validation loss
    expect(end.accuracyPoints).toBe(4); // 3 validation epochs and the test accuracy
    // vega drew them: line and point marks in both charts' SVG
    const marks = await page.$$eval("#loss-chart svg .mark-symbol.role-mark path", (paths) => paths.length);
    expect(marks).toBe(end.lossPoints);
    expect(
      await page.$$eval("#accuracy-chart svg .mark-symbol.role-mark path", (paths) => paths.length),
    ).toBe(4);
    expect(
      await page.$$eval(".charts svg .mark-line.role-mark path", (paths) => paths.length),
    ).toBeGreaterThanOrEqual(3);
    expect(problems, lines.join("\n")).toEqual([]);
    if (process.env.EXAMPLE_SCREENSHOT)
      await page.screenshot({ path: process.env.EXAMPLE_SCREENSHOT, fullPage: true });
    await page.close();
  });

  it("names the file in one line: a size that is not whole 3,073-byte records, a label byte above 9", async () => {
    const { page, problems } = await openExample("isolated");
    await pick(page, files.train, files.bad);
    const message = await text(page, "#error");
    expect(message).toBe(
      "data_batch_2.bin: 6,151 bytes is not a whole, non-zero number of CIFAR-10 records " +
        "(1 label byte + 3,072 pixel bytes = 3,073 bytes each; 2 records and 5 bytes over)",
    );
    // the Train button says it again instead of starting
    await page.click("#train-files");
    expect((await mirror(page)).state).toBe("idle");
    expect(await text(page, "#error")).toBe(message);
    // a bad label byte: the worker's parse fails, and the page says which file and record
    await pick(page, files.badLabel);
    expect(await text(page, "#error")).toBe("");
    const end = await trainWith(page, "#train-files");
    expect(end.state).toBe("error");
    expect(await text(page, "#error")).toBe(
      "data_batch_3.bin: record 1 (byte offset 3073) has label byte 12, expected 0-9",
    );
    expect(problems).toEqual([]);
    await page.close();
  });

  it("stops mid-run when Stop is pressed (the page stays responsive while the worker trains)", async () => {
    const { page, problems } = await openExample("isolated");
    await setValue(page, "#epochs", "200");
    await page.click("#train-synthetic");
    await page.waitForFunction("window.nablaExample.lossPoints > 0", { timeout: 0, polling: 100 });
    await page.click("#stop");
    await page.waitForFunction("window.nablaExample.state !== 'training'", { timeout: 0, polling: 100 });
    expect((await mirror(page)).state).toBe("stopped");
    expect(await text(page, "#progress")).toMatch(/^stopped at epoch \d+\/200, batch \d+\/36$/);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("trains on synthetic data on a page without isolation (the single-thread kernel)", async () => {
    const { page, problems, console: lines } = await openExample("plain");
    expect(await text(page, "#kernel")).toMatch(
      /auto:wasm, wasm-[a-z-]+, 1 thread · page not cross-origin isolated/,
    );
    await setValue(page, "#epochs", "1");
    const end = await trainWith(page, "#train-synthetic");
    expect(end.state, await text(page, "#error")).toBe("done");
    expect(await text(page, "#progress")).toMatch(/^epoch 1\/1 · batch 36\/36 · done in/);
    expect(end.accuracyPoints).toBe(2);
    expect(problems, lines.join("\n")).toEqual([]);
    await page.close();
  });
});
