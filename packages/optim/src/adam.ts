import type { Parameter } from "@nabla/ndarray";
import { z } from "zod";
import { lrSchema, nonNegative, nonNegativeInt, pickFields, unitHalfOpen } from "./bounds.js";
import { optimError, parseWith } from "./errors.js";
import { Optimizer, type OptimizerStateBase } from "./optimizer.js";
import { decodeArray, encodeArray, type FloatArray, type JsonNumber, zerosLike } from "./params.js";
import type { OptimizerEntry } from "./registry.js";

function adamShape(defaultWeightDecay: number) {
  return {
    /** torch's default. */
    lr: lrSchema.default(1e-3),
    betas: z
      .tuple([unitHalfOpen, unitHalfOpen], { error: "expected a pair [beta1, beta2]" })
      .default([0.9, 0.999]),
    /** >= 0 as torch checks; eps 0 turns a parameter whose gradients were all 0 into NaN (0 / 0). */
    eps: nonNegative.default(1e-8),
    /** Adam: L2 penalty added to the gradient. AdamW: decoupled decay. */
    weightDecay: nonNegative.default(defaultWeightDecay),
    amsgrad: z.boolean().default(false),
  };
}

/** new Adam(params, options) / new AdamW(params, options): the config's fields without `kind`. */
export const adamOptionsSchema = z.strictObject(adamShape(0));
export const adamwOptionsSchema = z.strictObject(adamShape(1e-2));
/** `{ kind: "adam", lr?, betas?, eps?, weightDecay?, amsgrad? }`, with the same bounds as the class. */
export const adamConfigSchema = z.strictObject({ kind: z.literal("adam"), ...adamShape(0) });
/** As Adam's, with weightDecay defaulting to 0.01 (torch's AdamW default). */
export const adamwConfigSchema = z.strictObject({ kind: z.literal("adamw"), ...adamShape(1e-2) });

export type AdamOptions = z.input<typeof adamOptionsSchema>;

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

interface ParamState {
  step: number;
  expAvg: FloatArray;
  expAvgSq: FloatArray;
  maxExpAvgSq: FloatArray | null;
}

function optionsSchema(owner: "Adam" | "AdamW") {
  return owner === "AdamW" ? adamwOptionsSchema : adamOptionsSchema;
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

  protected constructor(owner: "Adam" | "AdamW", params: Parameter[], options: AdamOptions | undefined) {
    const h = parseWith(owner, "", optionsSchema(owner), options ?? {});
    super(owner, params, h.lr);
    this.decoupled = owner === "AdamW";
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
      const w = params[k].value.data;
      const g = params[k].grad.data;
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
    const schema = optionsSchema(this.owner as "Adam" | "AdamW");
    const h = parseWith(this.owner, "stateDict", schema, pickFields(schema, s));
    const perParam = s.state as Record<string, unknown>;
    const states = this.params.map((p): ParamState | null => {
      const entry = perParam[p.name] as Partial<Record<keyof AdamParamState, unknown>> | undefined;
      if (entry === undefined) return null;
      const field = `stateDict.state[${JSON.stringify(p.name)}]`;
      if (entry === null || typeof entry !== "object")
        throw optimError(this.owner, field, "an object", entry);
      const step = parseWith(this.owner, `${field}.step`, nonNegativeInt, entry.step);
      return {
        step,
        expAvg: decodeArray(this.owner, `${field}.expAvg`, entry.expAvg, p.value.data),
        expAvgSq: decodeArray(this.owner, `${field}.expAvgSq`, entry.expAvgSq, p.value.data),
        maxExpAvgSq:
          entry.maxExpAvgSq === undefined
            ? null
            : decodeArray(this.owner, `${field}.maxExpAvgSq`, entry.maxExpAvgSq, p.value.data),
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
  constructor(params: Parameter[], options?: AdamOptions) {
    super("Adam", params, options);
  }
}

/** torch.optim.AdamW: decoupled weight decay p *= 1 - lr*weightDecay before the Adam update (default 1e-2). */
export class AdamW extends AdamBase {
  constructor(params: Parameter[], options?: AdamOptions) {
    super("AdamW", params, options);
  }
}

export const adamEntry: OptimizerEntry<typeof adamConfigSchema> = {
  kind: "adam",
  schema: adamConfigSchema,
  create: ({ kind: _, ...options }, params) => new Adam(params, options),
};

export const adamwEntry: OptimizerEntry<typeof adamwConfigSchema> = {
  kind: "adamw",
  schema: adamwConfigSchema,
  create: ({ kind: _, ...options }, params) => new AdamW(params, options),
};
