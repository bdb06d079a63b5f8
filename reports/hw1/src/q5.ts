/**
 * Question 5: a Monte-Carlo check of E[ReLU(f)²] = σ²/2 for f symmetric about 0 with variance σ².
 * For each law and σ it draws `samples` values (seeded @nabla/ndarray Rng, one stream per cell so cells are
 * independent and reproducible), and reports the sample mean of ReLU(f)², its standard error
 * (sample standard deviation / √n) and the z-score against the exact value. A centred exponential (zero
 * mean, variance σ², not symmetric) is included as a control: its exact value is 2σ²/e, not σ²/2 — a
 * zero mean is not enough, the symmetry of p(f) is what the proof uses.
 */
import { pathToFileURL } from "node:url";
import { Rng } from "@nabla/ndarray";
import { writeJsonAtomic } from "./io.js";

export type Q5Law = "normal" | "uniform" | "laplace" | "centred-exponential";

export interface Q5Cell {
  law: Q5Law;
  symmetric: boolean;
  sigma: number;
  samples: number;
  /** Mean of ReLU(f)² over the samples. */
  estimate: number;
  /** Sample standard deviation of ReLU(f)² divided by √samples. */
  standardError: number;
  /** The exact E[ReLU(f)²]: σ²/2 for the symmetric laws, 2σ²/e for the centred exponential. */
  exact: number;
  /** σ²/2, the claim of Question 5. */
  claim: number;
  /** (estimate − exact) / standardError. */
  z: number;
  /** Sample variance of f itself, as a check that the law has variance σ². */
  sampleVariance: number;
}

export interface Q5Result {
  kind: "q5-monte-carlo";
  seed: number;
  samples: number;
  sigmas: number[];
  cells: Q5Cell[];
}

export interface Q5Options {
  seed?: number;
  samples?: number;
  sigmas?: number[];
  laws?: Q5Law[];
}

export const Q5_DEFAULTS = {
  seed: 5,
  samples: 1_000_000,
  sigmas: [0.5, 1, 2, 5],
  laws: ["normal", "uniform", "laplace", "centred-exponential"] as Q5Law[],
};

/** A sampler of the law with variance sigma², drawing from rng. */
function sampler(law: Q5Law, sigma: number, rng: Rng): () => number {
  switch (law) {
    case "normal":
      return () => sigma * rng.normal();
    case "uniform": {
      // U(−a, a) has variance a²/3.
      const a = sigma * Math.sqrt(3);
      return () => (2 * rng.uniform() - 1) * a;
    }
    case "laplace": {
      // Laplace(0, b) has variance 2b²; inverse CDF on u ∈ (−½, ½).
      const b = sigma / Math.SQRT2;
      return () => {
        let u = rng.uniform() - 0.5;
        while (u === -0.5) u = rng.uniform() - 0.5; // 1 − 2|u| would be 0
        return -b * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
      };
    }
    case "centred-exponential":
      // Exp with mean σ has variance σ²; subtract the mean. −ln(1 − u) with u ∈ [0, 1) is finite.
      return () => -sigma * Math.log(1 - rng.uniform()) - sigma;
  }
}

function exactValue(law: Q5Law, sigma: number): number {
  // Centred exponential: ∫_σ^∞ (x − σ)² e^{−x/σ}/σ dx = 2σ²/e.
  return law === "centred-exponential" ? (2 * sigma * sigma) / Math.E : (sigma * sigma) / 2;
}

/** Runs one cell with Welford's algorithm (numerically stable mean and variance in one pass). */
export function monteCarloCell(law: Q5Law, sigma: number, samples: number, seed: number): Q5Cell {
  if (!Number.isInteger(samples) || samples < 2)
    throw new RangeError(`samples must be an integer ≥ 2, got ${samples}`);
  if (!(sigma > 0)) throw new RangeError(`sigma must be positive, got ${sigma}`);
  const draw = sampler(law, sigma, new Rng(seed));
  let mean = 0;
  let m2 = 0;
  let fSum = 0;
  let fSq = 0;
  for (let i = 1; i <= samples; i++) {
    const f = draw();
    fSum += f;
    fSq += f * f;
    const r = f > 0 ? f * f : 0;
    const delta = r - mean;
    mean += delta / i;
    m2 += delta * (r - mean);
  }
  const standardError = Math.sqrt(m2 / (samples - 1) / samples);
  const exact = exactValue(law, sigma);
  const fMean = fSum / samples;
  return {
    law,
    symmetric: law !== "centred-exponential",
    sigma,
    samples,
    estimate: mean,
    standardError,
    exact,
    claim: (sigma * sigma) / 2,
    z: (mean - exact) / standardError,
    sampleVariance: (fSq - samples * fMean * fMean) / (samples - 1),
  };
}

/** Every law × σ cell; cell k uses seed + k so the streams never overlap in a correlated way. */
export function runQ5MonteCarlo(opts: Q5Options = {}): Q5Result {
  const seed = opts.seed ?? Q5_DEFAULTS.seed;
  const samples = opts.samples ?? Q5_DEFAULTS.samples;
  const sigmas = opts.sigmas ?? Q5_DEFAULTS.sigmas;
  const laws = opts.laws ?? Q5_DEFAULTS.laws;
  const cells: Q5Cell[] = [];
  for (const law of laws) {
    for (const sigma of sigmas) cells.push(monteCarloCell(law, sigma, samples, seed + cells.length));
  }
  return { kind: "q5-monte-carlo", seed, samples, sigmas, cells };
}

/** `node dist/q5.js [out.json]`: writes the result (default results/q5-monte-carlo.json). */
async function main(): Promise<void> {
  const out = process.argv[2] ?? "results/q5-monte-carlo.json";
  const started = performance.now();
  const result = runQ5MonteCarlo();
  await writeJsonAtomic(out, result);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`q5: ${result.cells.length} cells × ${result.samples} samples in ${seconds} s -> ${out}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().catch((error: unknown) => {
    console.error(`q5: ${(error as Error).message}`);
    process.exit(1);
  });
}
