import { axpy, type Parameter } from "@nabla/ndarray";
import { z } from "zod";
import { lrSchema, nonNegative, pickFields, unitClosed } from "./bounds.js";
import { optimError, parseWith } from "./errors.js";
import { Optimizer, type OptimizerStateBase } from "./optimizer.js";
import { decodeArray, encodeArray, type FloatArray, type JsonNumber } from "./params.js";
import type { OptimizerEntry } from "./registry.js";

const sgdShape = {
  /** Required, as in torch (SGD has no default learning rate). */
  lr: lrSchema,
  momentum: nonNegative.default(0),
  /** torch does not check it; outside [0, 1] the gradient's weight 1 - dampening would flip sign or exceed 1. */
  dampening: unitClosed.default(0),
  nesterov: z.boolean().default(false),
  weightDecay: nonNegative.default(0),
};

function nesterovRule(
  o: { momentum: number; dampening: number; nesterov: boolean },
  ctx: z.RefinementCtx,
): void {
  if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) {
    ctx.addIssue({
      code: "custom",
      path: ["nesterov"],
      message: `expected momentum > 0 and dampening 0 for Nesterov momentum, got momentum ${o.momentum} and dampening ${o.dampening}`,
    });
  }
}

/** new SGD(params, options): the config's fields without `kind`. */
export const sgdOptionsSchema = z.strictObject(sgdShape).superRefine(nesterovRule);
/** `{ kind: "sgd", lr, momentum?, dampening?, nesterov?, weightDecay? }`, with the same bounds as the class. */
export const sgdConfigSchema = z
  .strictObject({ kind: z.literal("sgd"), ...sgdShape })
  .superRefine(nesterovRule);

export type SGDOptions = z.input<typeof sgdOptionsSchema>;

export interface SGDStateDict extends OptimizerStateBase {
  type: "SGD";
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  state: Record<string, { momentumBuffer: JsonNumber[] }>;
}

/**
 * torch.optim.SGD (1.13, single-tensor path), per element with d = grad:
 *   d = d + weightDecay * p                                  (if weightDecay != 0)
 *   buf = d on the first step, else buf = momentum*buf + (1 - dampening)*d   (if momentum != 0)
 *   d = nesterov ? d + momentum*buf : buf
 *   p = p - lr * d
 * The momentum buffer is allocated once, on the first step; step() itself allocates nothing.
 */
export class SGD extends Optimizer {
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  private readonly buffers: (FloatArray | null)[];

  constructor(params: Parameter[], options: SGDOptions) {
    const h = parseWith("SGD", "", sgdOptionsSchema, options);
    super("SGD", params, h.lr);
    this.momentum = h.momentum;
    this.dampening = h.dampening;
    this.nesterov = h.nesterov;
    this.weightDecay = h.weightDecay;
    this.buffers = this.params.map(() => null);
  }

  step(): void {
    const lr = this.lr;
    const { momentum, dampening, nesterov, weightDecay } = this;
    const params = this.params;
    for (let k = 0; k < params.length; k++) {
      const w = params[k].value.data;
      const g = params[k].grad.data;
      const n = w.length;
      if (momentum === 0) {
        if (weightDecay === 0 && w instanceof Float32Array && g instanceof Float32Array) {
          // Plain float32 SGD is w += (-lr) g, BLAS axpy: @nabla/ndarray runs it natively for long arrays
          // (~10x faster than this loop) with the same bits (double arithmetic, one rounding on store). Only
          // a non-finite w differs from the general loop below, whose 0 * w would make it NaN; torch skips
          // the decay term when weightDecay is 0, as axpy does.
          axpy(w, -lr, g);
          continue;
        }
        for (let i = 0; i < n; i++) w[i] = w[i] + -lr * (g[i] + weightDecay * w[i]);
        continue;
      }
      let buf = this.buffers[k];
      if (buf === null) {
        // torch: buf = clone(d_p) on the first step (no dampening applied); allocated once, reused afterwards
        buf = w instanceof Float32Array ? new Float32Array(n) : new Float64Array(n);
        this.buffers[k] = buf;
        for (let i = 0; i < n; i++) buf[i] = g[i] + weightDecay * w[i];
        if (nesterov)
          for (let i = 0; i < n; i++) w[i] = w[i] + -lr * (g[i] + weightDecay * w[i] + momentum * buf[i]);
        else for (let i = 0; i < n; i++) w[i] = w[i] + -lr * buf[i];
        continue;
      }
      // One fused pass per element (buffer update, then parameter update), same arithmetic as torch's two ops
      const keep = 1 - dampening;
      if (nesterov) {
        for (let i = 0; i < n; i++) {
          const d = g[i] + weightDecay * w[i];
          buf[i] = buf[i] * momentum + keep * d;
          w[i] = w[i] + -lr * (d + momentum * buf[i]);
        }
      } else {
        for (let i = 0; i < n; i++) {
          buf[i] = buf[i] * momentum + keep * (g[i] + weightDecay * w[i]);
          w[i] = w[i] + -lr * buf[i];
        }
      }
    }
  }

  stateDict(): SGDStateDict {
    const state: Record<string, { momentumBuffer: JsonNumber[] }> = {};
    this.params.forEach((p, k) => {
      const buf = this.buffers[k];
      if (buf !== null) state[p.name] = { momentumBuffer: encodeArray(buf) };
    });
    return {
      type: "SGD",
      lr: this.lr,
      initialLr: this.initialLr ?? null,
      momentum: this.momentum,
      dampening: this.dampening,
      nesterov: this.nesterov,
      weightDecay: this.weightDecay,
      state,
    };
  }

  loadStateDict(stateDict: unknown): void {
    const s = this.checkStateHeader(stateDict);
    const h = parseWith(this.owner, "stateDict", sgdOptionsSchema, pickFields(sgdOptionsSchema, s));
    const perParam = s.state as Record<string, unknown>;
    const buffers = this.params.map((p) => {
      const entry = perParam[p.name] as { momentumBuffer?: unknown } | undefined;
      if (entry === undefined) return null;
      const field = `stateDict.state[${JSON.stringify(p.name)}].momentumBuffer`;
      if (entry === null || typeof entry !== "object") throw optimError(this.owner, field, "present", entry);
      return decodeArray(this.owner, field, entry.momentumBuffer, p.value.data);
    });
    this.restoreHeader(s);
    this.momentum = h.momentum;
    this.dampening = h.dampening;
    this.nesterov = h.nesterov;
    this.weightDecay = h.weightDecay;
    buffers.forEach((b, k) => {
      this.buffers[k] = b;
    });
  }
}

export const sgdEntry: OptimizerEntry<typeof sgdConfigSchema> = {
  kind: "sgd",
  schema: sgdConfigSchema,
  create: ({ kind: _, ...options }, params) => new SGD(params, options),
};
