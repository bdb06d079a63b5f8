/**
 * The run whose numbers Node and Chromium must agree on bit for bit: a few epochs of the homework MLP on
 * synthetic CIFAR-shaped data with a fixed seed. Its metrics are reported as the hex of their float64 bits,
 * so a comparison cannot be fooled by printing or JSON rounding.
 */
import { syntheticCifar10 } from "@nabla/cifar/portable";
import type { GemmKernelInfo } from "@nabla/ndarray";
import { trainHomeworkMlp } from "./homework-mlp.js";

export const CHECK_RUN = {
  trainCount: 704,
  testCount: 128,
  validationSize: 192,
  epochs: 3,
  // 64 rows: the first layer's products (64x3072x128) are above the parallel kernel's threshold.
  batchSize: 64,
  lr: 0.01,
  seed: 15,
} as const;

export interface LossesReport {
  /** Per-step training losses, then per-epoch train loss, validation loss and accuracy, test loss and accuracy. */
  bits: Record<string, string[]>;
  /** The same values as numbers (for messages only; compare `bits`). */
  values: Record<string, number[]>;
}

/** The 16 hex digits of a float64's bits (a float32 loss widened to float64 keeps all of its bits). */
export function float64Hex(x: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return view.getBigUint64(0).toString(16).padStart(16, "0");
}

export async function runLossesCheck(): Promise<LossesReport> {
  const data = syntheticCifar10({
    trainCount: CHECK_RUN.trainCount,
    testCount: CHECK_RUN.testCount,
    seed: CHECK_RUN.seed,
  });
  const outcome = await trainHomeworkMlp({ ...CHECK_RUN, train: data.train, test: data.test });
  const m = outcome.metrics;
  const values: Record<string, number[]> = {
    trainLossPerStep: m.trainLossPerStep.map((x) => x ?? Number.NaN),
    trainLoss: m.trainLoss,
    valLoss: m.valLoss,
    valAccuracy: m.valAccuracy,
    test: [m.testLoss ?? Number.NaN, m.testAccuracy ?? Number.NaN],
  };
  const bits: Record<string, string[]> = {};
  for (const [name, xs] of Object.entries(values)) bits[name] = xs.map(float64Hex);
  return { bits, values };
}

/** What the check page reports besides the numbers: which kernel ran, so a test can assert the path. */
export interface KernelReport {
  kernel: string;
  threads: number;
  isa: string;
  platform: string;
  lastKernel: string;
  notes: string[];
}

export function kernelReport(info: GemmKernelInfo): KernelReport {
  const { kernel, threads, isa, platform, lastKernel, notes } = info;
  return { kernel, threads, isa, platform, lastKernel, notes };
}
