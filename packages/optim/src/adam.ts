import {
  OptimError,
  requireBoolean,
  requireFiniteNumber,
  requireInHalfOpen,
  requireNonNegative,
} from "./errors.js";
import { Optimizer, type OptimizerStateBase } from "./optimizer.js";
import {
  decodeArray,
  encodeArray,
  type FloatArray,
  type JsonNumber,
  type ParamLike,
  zerosLike,
} from "./params.js";

export interface AdamOptions {
  /** Default 1e-3. */
  lr?: number;
  /** Default [0.9, 0.999]; each in [0, 1). */
  betas?: [number, number];
  /** Default 1e-8; >= 0. */
  eps?: number;
  /** Adam: L2 penalty added to the gradient (default 0). AdamW: decoupled decay (default 1e-2). */
  weightDecay?: number;
  amsgrad?: boolean;
}

export interface AdamParamState {
  step: number;
  expAvg: JsonNumber[];
  expAvgSq: JsonNumber[];
  maxExpAvgSq?: JsonNumber[];
}

export interface AdamStateDict extends OptimizerStateBase {
  type: "Adam" | "AdamW";
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  state: Record<string, AdamParamState>;
}

interface AdamHyper {
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
}

interface ParamState {
  step: number;
  expAvg: FloatArray;
  expAvgSq: FloatArray;
  maxExpAvgSq: FloatArray | null;
}

function checkAdamHyper(
  owner: string,
  o: Partial<AdamHyper>,
  prefix: string,
  defaultDecay: number,
): AdamHyper {
  const betas = o.betas ?? [0.9, 0.999];
  if (!Array.isArray(betas) || betas.length !== 2) {
    throw new OptimError(owner, `${prefix}betas`, "a pair [beta1, beta2]", betas);
  }
  const beta1 = requireInHalfOpen(owner, `${prefix}betas[0]`, betas[0], 0, 1);
  const beta2 = requireInHalfOpen(owner, `${prefix}betas[1]`, betas[1], 0, 1);
  return {
    betas: [beta1, beta2],
    eps: requireNonNegative(owner, `${prefix}eps`, o.eps ?? 1e-8),
    weightDecay: requireNonNegative(owner, `${prefix}weightDecay`, o.weightDecay ?? defaultDecay),
    amsgrad: requireBoolean(owner, `${prefix}amsgrad`, o.amsgrad ?? false),
  };
}

/**
 * Shared implementation of torch.optim.Adam and torch.optim.AdamW (1.13, single-tensor path). Per parameter,
 * with t = ++step, bc1 = 1 - beta1^t, bc2 = 1 - beta2^t:
 *   Adam:  g = g + weightDecay * p            AdamW: p = p * (1 - lr * weightDecay)
 *   m = beta1*m + (1 - beta1)*g;   v = beta2*v + (1 - beta2)*g*g
 *   vmax = max(vmax, v) if amsgrad;  denom = sqrt(amsgrad ? vmax : v) / sqrt(bc2) + eps
 *   p = p - (lr / bc1) * m / denom
 * Moment buffers are allocated once, on the first step; step() itself allocates nothing.
 */
abstract class AdamBase extends Optimizer {
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  private readonly states: (ParamState | null)[];
  private readonly decoupled: boolean;

  protected constructor(owner: "Adam" | "AdamW", params: ParamLike[], options: AdamOptions | undefined) {
    const o = options ?? {};
    if (o === null || typeof o !== "object") throw new OptimError(owner, "options", "an object", o);
    super(owner, params, o.lr ?? 1e-3);
    this.decoupled = owner === "AdamW";
    const h = checkAdamHyper(owner, o, "", this.decoupled ? 1e-2 : 0);
    this.betas = h.betas;
    this.eps = h.eps;
    this.weightDecay = h.weightDecay;
    this.amsgrad = h.amsgrad;
    this.states = this.params.map(() => null);
  }

  step(): void {
    const lr = this.lr;
    const beta1 = this.betas[0];
    const beta2 = this.betas[1];
    const { eps, weightDecay, amsgrad, decoupled } = this;
    const l2 = decoupled ? 0 : weightDecay;
    const shrink = 1 - lr * weightDecay;
    const params = this.params;
    for (let k = 0; k < params.length; k++) {
      const w = params[k].value;
      const g = params[k].grad;
      const n = w.length;
      let st = this.states[k];
      if (st === null) {
        st = {
          step: 0,
          expAvg: zerosLike(w),
          expAvgSq: zerosLike(w),
          maxExpAvgSq: amsgrad ? zerosLike(w) : null,
        };
        this.states[k] = st;
      }
      if (amsgrad && st.maxExpAvgSq === null) st.maxExpAvgSq = zerosLike(w);
      st.step += 1;
      const bc1 = 1 - beta1 ** st.step;
      const bc2Sqrt = Math.sqrt(1 - beta2 ** st.step);
      const negStepSize = -(lr / bc1);
      const m = st.expAvg;
      const v = st.expAvgSq;
      if (decoupled && weightDecay !== 0) for (let i = 0; i < n; i++) w[i] = w[i] * shrink;
      if (amsgrad) {
        const vmax = st.maxExpAvgSq as FloatArray;
        for (let i = 0; i < n; i++) {
          const gi = l2 === 0 ? g[i] : g[i] + l2 * w[i];
          m[i] = m[i] * beta1 + (1 - beta1) * gi;
          v[i] = v[i] * beta2 + (1 - beta2) * gi * gi;
          if (v[i] > vmax[i] || Number.isNaN(v[i])) vmax[i] = v[i];
          w[i] = w[i] + negStepSize * (m[i] / (Math.sqrt(vmax[i]) / bc2Sqrt + eps));
        }
      } else {
        for (let i = 0; i < n; i++) {
          const gi = l2 === 0 ? g[i] : g[i] + l2 * w[i];
          m[i] = m[i] * beta1 + (1 - beta1) * gi;
          v[i] = v[i] * beta2 + (1 - beta2) * gi * gi;
          w[i] = w[i] + negStepSize * (m[i] / (Math.sqrt(v[i]) / bc2Sqrt + eps));
        }
      }
    }
  }

  stateDict(): AdamStateDict {
    const state: Record<string, AdamParamState> = {};
    this.params.forEach((p, k) => {
      const st = this.states[k];
      if (st === null) return;
      const entry: AdamParamState = {
        step: st.step,
        expAvg: encodeArray(st.expAvg),
        expAvgSq: encodeArray(st.expAvgSq),
      };
      if (st.maxExpAvgSq !== null) entry.maxExpAvgSq = encodeArray(st.maxExpAvgSq);
      state[p.name] = entry;
    });
    return {
      type: this.owner as "Adam" | "AdamW",
      lr: this.lr,
      initialLr: this.initialLr ?? null,
      betas: [this.betas[0], this.betas[1]],
      eps: this.eps,
      weightDecay: this.weightDecay,
      amsgrad: this.amsgrad,
      state,
    };
  }

  loadStateDict(stateDict: unknown): void {
    const s = this.checkStateHeader(stateDict);
    const h = checkAdamHyper(this.owner, s as Partial<AdamHyper>, "stateDict.", this.decoupled ? 1e-2 : 0);
    const perParam = s.state as Record<string, unknown>;
    const states = this.params.map((p): ParamState | null => {
      const entry = perParam[p.name] as Partial<Record<keyof AdamParamState, unknown>> | undefined;
      if (entry === undefined) return null;
      const field = `stateDict.state[${JSON.stringify(p.name)}]`;
      if (entry === null || typeof entry !== "object")
        throw new OptimError(this.owner, field, "an object", entry);
      const step = requireFiniteNumber(this.owner, `${field}.step`, entry.step);
      if (!Number.isInteger(step) || step < 0) {
        throw new OptimError(this.owner, `${field}.step`, "a non-negative integer", step);
      }
      return {
        step,
        expAvg: decodeArray(this.owner, `${field}.expAvg`, entry.expAvg, p.value),
        expAvgSq: decodeArray(this.owner, `${field}.expAvgSq`, entry.expAvgSq, p.value),
        maxExpAvgSq:
          entry.maxExpAvgSq === undefined
            ? null
            : decodeArray(this.owner, `${field}.maxExpAvgSq`, entry.maxExpAvgSq, p.value),
      };
    });
    this.restoreHeader(s);
    this.betas = h.betas;
    this.eps = h.eps;
    this.weightDecay = h.weightDecay;
    this.amsgrad = h.amsgrad;
    states.forEach((st, k) => {
      this.states[k] = st;
    });
  }
}

/** torch.optim.Adam: weightDecay is an L2 term added to the gradient. */
export class Adam extends AdamBase {
  constructor(params: ParamLike[], options?: AdamOptions) {
    super("Adam", params, options);
  }
}

/** torch.optim.AdamW: decoupled weight decay p *= 1 - lr*weightDecay before the Adam update (default 1e-2). */
export class AdamW extends AdamBase {
  constructor(params: ParamLike[], options?: AdamOptions) {
    super("AdamW", params, options);
  }
}
