/** Opt-in accounting of GEMM calls by shape, so a benchmark can split a training step into its GEMMs. */

export interface GemmProfileEntry {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  /** Kernel of the last call with this shape. */
  kernel: string;
  calls: number;
  /** Wall time summed over the calls, milliseconds. */
  ms: number;
}

let entries: Map<string, GemmProfileEntry> | null = null;

/** Starts (clearing what was recorded) or stops recording; off by default, when gemm pays one branch. */
export function setGemmProfiling(on: boolean): void {
  entries = on ? new Map() : null;
}

export function gemmProfiling(): boolean {
  return entries !== null;
}

/** What was recorded since setGemmProfiling(true), in first-call order. */
export function gemmProfile(): GemmProfileEntry[] {
  return entries ? [...entries.values()].map((e) => ({ ...e })) : [];
}

export function recordGemm(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  kernel: string,
  ms: number,
): void {
  if (entries === null) return;
  const key = `${transA ? "T" : "N"}${transB ? "T" : "N"} ${m}x${n}x${k}`;
  let e = entries.get(key);
  if (e === undefined) {
    e = { transA, transB, m, n, k, kernel, calls: 0, ms: 0 };
    entries.set(key, e);
  }
  e.calls++;
  e.ms += ms;
  e.kernel = kernel;
}
