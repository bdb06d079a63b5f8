/** The messages between the example page (main.ts) and its training worker (worker.ts). */
import type { ProgressEvent } from "@nabla/runner/training";

export interface TrainSettings {
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
}

/** What to train on: the picked files (their bytes transferred to the worker) or synthetic CIFAR-10. */
export type DataSource =
  | { kind: "files"; files: { name: string; bytes: ArrayBuffer }[] }
  | { kind: "synthetic"; trainCount: number; testCount: number };

export type ToWorker = { type: "start"; source: DataSource; settings: TrainSettings } | { type: "stop" };

/** The GEMM kernel the worker runs, from gemmKernelInfo() after gemmReady(). */
export interface KernelLine {
  kernel: string;
  isa: string;
  threads: number;
  notes: string[];
  crossOriginIsolated: boolean;
}

export type FromWorker =
  | { type: "kernel"; info: KernelLine }
  | { type: "data"; summary: string }
  | { type: "progress"; event: ProgressEvent }
  | {
      type: "done";
      seconds: number;
      testAccuracy: number | null;
      bestEpoch: number | null;
      status: "ok" | "diverged";
    }
  | { type: "stopped" }
  | { type: "error"; message: string };
