/**
 * The statistics of the seed spread: mean, sample standard deviation, Student-t intervals and paired
 * differences. The t quantile is computed (incomplete beta function, inverted by bisection) rather than read
 * from a table, so any number of seeds works.
 */

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; ~1e-15 relative). */
export function lnGamma(x: number): number {
  const c = [
    0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.3234287776531, -176.6150291621406,
    12.507343278686905, -0.13857109526572012, 9.984369578019572e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const z = x - 1;
  let a = c[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 500; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return h;
}

/** The regularised incomplete beta function I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The continued fraction converges fast only on this side of the mean; use the symmetry otherwise.
  return x < (a + 1) / (a + b + 2)
    ? (front * betaContinuedFraction(a, b, x)) / a
    : 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The p-quantile of Student's t with `df` degrees of freedom (p in (0, 1), df > 0). */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df > 0)) throw new RangeError(`studentTQuantile: need 0 < p < 1 and df > 0`);
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  // Bisection to the last bit: the CDF is monotone and 200 halvings exhaust a double.
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export function mean(values: number[]): number {
  if (values.length === 0) throw new RangeError("mean of no values");
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Sample standard deviation (n − 1 in the denominator); needs two values. */
export function sampleSd(values: number[]): number {
  if (values.length < 2) throw new RangeError("sample standard deviation needs at least 2 values");
  const m = mean(values);
  return Math.sqrt(values.reduce((s, v) => s + (v - m) ** 2, 0) / (values.length - 1));
}

export interface Summary {
  n: number;
  mean: number;
  sd: number;
  min: number;
  max: number;
  /** Standard error of the mean, sd / √n. */
  se: number;
  /** t quantile used for the interval, t(1 − α/2; n − 1). */
  t: number;
  /** Half-width of the interval, t · se. */
  halfWidth: number;
  lo: number;
  hi: number;
  level: number;
}

/** Mean, sd and the Student-t confidence interval of the mean (default 95 %). */
export function summarise(values: number[], level = 0.95): Summary {
  const n = values.length;
  const m = mean(values);
  const sd = sampleSd(values);
  const se = sd / Math.sqrt(n);
  const t = studentTQuantile(1 - (1 - level) / 2, n - 1);
  return {
    n,
    mean: m,
    sd,
    min: Math.min(...values),
    max: Math.max(...values),
    se,
    t,
    halfWidth: t * se,
    lo: m - t * se,
    hi: m + t * se,
    level,
  };
}

export interface PairedDifference {
  /** Seeds present in both, in the order of `a`. */
  seeds: number[];
  /** a(seed) − b(seed) for each seed. */
  differences: number[];
  summary: Summary;
}

/** Differences a − b paired by seed (seeds in only one of the two are left out); needs two common seeds. */
export function pairedDifference(a: Map<number, number>, b: Map<number, number>): PairedDifference {
  const seeds = [...a.keys()].filter((s) => b.has(s));
  const differences = seeds.map((s) => (a.get(s) as number) - (b.get(s) as number));
  return { seeds, differences, summary: summarise(differences) };
}
