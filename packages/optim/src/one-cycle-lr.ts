import { z } from "zod";
import { lrSchema, nonNegative, pickFields, positiveInt, unitClosed } from "./bounds.js";
import { OptimError, optimError, parseWith } from "./errors.js";
import { checkSchedulerStateHeader, type Scheduler, type SchedulerStateBase } from "./lr-scheduler.js";
import { Optimizer } from "./optimizer.js";
import type { SchedulerEntry } from "./registry.js";

const OWNER = "OneCycleLR";
/** torch does not check the two factors; 0 would divide by zero, a negative one make every lr negative. */
const positive = z.number().gt(0, "expected a number > 0");

const onecycleShape = {
  maxLr: lrSchema,
  /** step() calls of the schedule: here, as epochs x stepsPerEpoch, or from createScheduler's context. */
  totalSteps: positiveInt.optional(),
  epochs: positiveInt.optional(),
  stepsPerEpoch: positiveInt.optional(),
  pctStart: unitClosed.default(0.3),
  annealStrategy: z.enum(["cos", "linear"]).default("cos"),
  cycleMomentum: z.boolean().default(true),
  /** torch does not check them; as Adam's beta1 they must be in [0, 1), checked against the optimizer. */
  baseMomentum: nonNegative.default(0.85),
  maxMomentum: nonNegative.default(0.95),
  /** initialLr = maxLr / divFactor. */
  divFactor: positive.default(25),
  /** minLr = initialLr / finalDivFactor. */
  finalDivFactor: positive.default(1e4),
  threePhase: z.boolean().default(false),
};

interface StepsFields {
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
}

/** torch lets total_steps win silently over epochs/steps_per_epoch; here giving both is an error. */
function stepsRule(o: StepsFields, ctx: z.RefinementCtx): void {
  if (o.totalSteps !== undefined && (o.epochs !== undefined || o.stepsPerEpoch !== undefined)) {
    const other = o.epochs !== undefined ? `epochs ${o.epochs}` : `stepsPerEpoch ${o.stepsPerEpoch}`;
    ctx.addIssue({
      code: "custom",
      path: ["totalSteps"],
      message: `expected totalSteps or epochs and stepsPerEpoch, not both, got totalSteps ${o.totalSteps} and ${other}`,
    });
  } else if ((o.epochs === undefined) !== (o.stepsPerEpoch === undefined)) {
    const [missing, given] =
      o.epochs === undefined ? ["epochs", "stepsPerEpoch"] : ["stepsPerEpoch", "epochs"];
    ctx.addIssue({
      code: "custom",
      path: [missing],
      message: `expected ${missing} with ${given} (totalSteps is their product)`,
    });
  }
}

/** new OneCycleLR(optimizer, options): the config's fields without `kind`. */
export const oneCycleLROptionsSchema = z.strictObject(onecycleShape).superRefine(stepsRule);
/**
 * `{ kind: "onecycle", maxLr, totalSteps? | epochs? + stepsPerEpoch?, pctStart?, annealStrategy?, cycleMomentum?,
 * baseMomentum?, maxMomentum?, divFactor?, finalDivFactor?, threePhase? }`; without a step count the caller's
 * createScheduler context gives it.
 */
export const onecycleConfigSchema = z
  .strictObject({ kind: z.literal("onecycle"), ...onecycleShape })
  .superRefine(stepsRule);
export type OneCycleLROptions = z.input<typeof oneCycleLROptionsSchema>;

type Hyperparameters = Omit<z.output<typeof oneCycleLROptionsSchema>, keyof StepsFields> & {
  totalSteps: number;
};

export interface OneCycleLRState extends SchedulerStateBase, Hyperparameters {
  type: "OneCycleLR";
}

/** One of torch's _schedule_phases, its endpoints resolved to numbers. */
interface Phase {
  end: number;
  startLr: number;
  endLr: number;
  startMomentum: number;
  endMomentum: number;
}

interface Plan {
  h: Hyperparameters;
  phases: Phase[];
  setMomentum: ((m: number) => void) | null;
}

/** The step count a config or options object gives itself, if any. */
function ownTotalSteps(o: StepsFields): number | undefined {
  if (o.totalSteps !== undefined) return o.totalSteps;
  return o.epochs !== undefined && o.stepsPerEpoch !== undefined ? o.epochs * o.stepsPerEpoch : undefined;
}

function anneal(strategy: "cos" | "linear", start: number, end: number, pct: number): number {
  // torch's _annealing_cos / _annealing_linear, in their operation order
  if (strategy === "cos") return end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
  return (end - start) * pct + start;
}

/**
 * torch.optim.lr_scheduler.OneCycleLR (1.13), stepped after every optimizer step (`interval` "step"). At
 * construction it overrides the optimizer's lr and `initialLr` with maxLr / divFactor and, with cycleMomentum,
 * its momentum (SGD's `momentum`, or beta1 of Adam/AdamW as torch's use_beta1) with maxMomentum; then it takes
 * the initial step to step 0. Step k (0..totalSteps) anneals, with cos or linear, within torch's phases:
 *   two:   initialLr -> maxLr until pctStart*T - 1, then maxLr -> minLr until T - 1
 *   three: initialLr -> maxLr until pctStart*T - 1, maxLr -> initialLr until 2*pctStart*T - 2, then -> minLr
 * and the momentum the opposite way (maxMomentum -> baseMomentum -> maxMomentum). As in torch, the last phase
 * runs to T - 1 and step T (the step() after the last batch) extrapolates one step past it; one more throws.
 */
export class OneCycleLR implements Scheduler {
  readonly optimizer: Optimizer;
  readonly interval = "step";
  /** torch's last_epoch: step() calls since construction (0 right after it). */
  lastEpoch = -1;
  private plan: Plan;
  private lastLrValue: number[] = [];

  constructor(optimizer: Optimizer, options: OneCycleLROptions) {
    if (!(optimizer instanceof Optimizer)) {
      throw optimError(OWNER, "optimizer", "an Optimizer from @nabla/optim", optimizer);
    }
    this.optimizer = optimizer;
    const parsed = parseWith(OWNER, "", oneCycleLROptionsSchema, options);
    const totalSteps = ownTotalSteps(parsed);
    if (totalSteps === undefined) {
      throw optimError(
        OWNER,
        "totalSteps",
        "totalSteps, or epochs and stepsPerEpoch (createScheduler takes it from its context { totalSteps })",
        undefined,
      );
    }
    const { totalSteps: _, epochs: __, stepsPerEpoch: ___, ...o } = parsed;
    this.plan = makePlan(optimizer, "", { ...o, totalSteps });
    // torch (last_epoch -1) sets the group's initial_lr unconditionally: the cycle starts there
    optimizer.initialLr = this.initialLr;
    this.step();
  }

  get totalSteps(): number {
    return this.plan.h.totalSteps;
  }

  /** maxLr / divFactor: the lr at step 0 and after a three-phase cycle's second phase. */
  get initialLr(): number {
    return this.plan.h.maxLr / this.plan.h.divFactor;
  }

  /** initialLr / finalDivFactor: the lr at step T - 1. */
  get minLr(): number {
    return this.initialLr / this.plan.h.finalDivFactor;
  }

  step(): void {
    const next = this.lastEpoch + 1;
    if (next > this.totalSteps) {
      // torch raises too ("Tried to step T+2 times"), but only after advancing last_epoch; here nothing changes
      throw new OptimError(
        `${OWNER}: step(): expected at most ${this.totalSteps} calls after construction (totalSteps, one per optimizer step), got call ${next}`,
        "step()",
      );
    }
    const { lr, momentum } = this.at(next);
    this.lastEpoch = next;
    // Only step T's linear extrapolation can be negative (torch sets e.g. -0.0013 there, for no optimizer step
    // in its loop); the optimizer's lr must be >= 0, so it becomes 0, as LRScheduler clamps too.
    this.optimizer.lr = Math.max(0, lr);
    this.plan.setMomentum?.(momentum);
    this.lastLrValue = [this.optimizer.lr];
  }

  getLastLr(): number[] {
    return this.lastLrValue.slice();
  }

  stateDict(): OneCycleLRState {
    return { type: OWNER, lastEpoch: this.lastEpoch, lastLr: this.lastLrValue.slice(), ...this.plan.h };
  }

  /** Restores a stateDict(); the optimizer's own state carries its current lr and momentum. */
  loadStateDict(state: unknown): void {
    const s = checkSchedulerStateHeader(OWNER, state);
    const schema = oneCycleLROptionsSchema;
    const {
      epochs: _,
      stepsPerEpoch: __,
      totalSteps,
      ...o
    } = parseWith(OWNER, "stateDict", schema, pickFields(schema, s));
    if (totalSteps === undefined) {
      throw optimError(OWNER, "stateDict.totalSteps", "an integer >= 1", undefined);
    }
    if ((s.lastEpoch as number) > totalSteps) {
      throw optimError(OWNER, "stateDict.lastEpoch", `at most totalSteps (${totalSteps})`, s.lastEpoch);
    }
    this.plan = makePlan(this.optimizer, "stateDict.", { ...o, totalSteps });
    this.lastEpoch = s.lastEpoch as number;
    this.lastLrValue = (s.lastLr as number[]).slice();
  }

  /** torch's get_lr() at step `k`: the first phase whose end is >= k (or the last), annealed at its pct. */
  private at(k: number): { lr: number; momentum: number } {
    const { phases, h } = this.plan;
    let start = 0;
    for (let i = 0; i < phases.length; i++) {
      const p = phases[i];
      if (k <= p.end || i === phases.length - 1) {
        const pct = (k - start) / (p.end - start);
        return {
          lr: anneal(h.annealStrategy, p.startLr, p.endLr, pct),
          momentum: anneal(h.annealStrategy, p.startMomentum, p.endMomentum, pct),
        };
      }
      start = p.end;
    }
    throw new Error("unreachable: the last phase always applies");
  }
}

/** The phases and the momentum writer for `h` on `optimizer`, or one OptimError if they cannot work. */
function makePlan(optimizer: Optimizer, prefix: string, h: Hyperparameters): Plan {
  const T = h.totalSteps;
  const initialLr = h.maxLr / h.divFactor;
  const minLr = initialLr / h.finalDivFactor;
  const { maxLr, baseMomentum: baseM, maxMomentum: maxM } = h;
  const warmUp = {
    end: h.pctStart * T - 1,
    startLr: initialLr,
    endLr: maxLr,
    startMomentum: maxM,
    endMomentum: baseM,
  };
  const phases: Phase[] = h.threePhase
    ? [
        warmUp,
        {
          end: 2 * h.pctStart * T - 2,
          startLr: maxLr,
          endLr: initialLr,
          startMomentum: baseM,
          endMomentum: maxM,
        },
        { end: T - 1, startLr: initialLr, endLr: minLr, startMomentum: maxM, endMomentum: maxM },
      ]
    : [warmUp, { end: T - 1, startLr: maxLr, endLr: minLr, startMomentum: baseM, endMomentum: maxM }];
  // torch divides by a phase's length: 0 for the first phase when it ends at step 0 (chosen at step 0) or for the
  // last when it ends where the previous one does (chosen at step T); a zero-length middle phase is never chosen.
  const n = phases.length;
  const zeroAt = phases[0].end === 0 ? 0 : phases[n - 1].end === phases[n - 2].end ? T : undefined;
  if (zeroAt !== undefined) {
    const how = `${h.pctStart} with totalSteps ${T}${h.threePhase ? " and threePhase" : ""}`;
    throw new OptimError(
      `${OWNER}: ${prefix}pctStart: expected a pctStart that leaves every phase at least one step (torch divides by zero at step ${zeroAt}), got ${how}`,
      `${prefix}pctStart`,
    );
  }
  return { h, phases, setMomentum: h.cycleMomentum ? momentumWriter(optimizer, prefix, h) : null };
}

/**
 * What torch cycles: beta1 when the optimizer has `betas` (Adam, AdamW), else its `momentum` (SGD), so a
 * registered optimizer with either field works too. Bounds the optimizer itself would reject are errors here.
 */
function momentumWriter(optimizer: Optimizer, prefix: string, h: Hyperparameters): (m: number) => void {
  const o = optimizer as unknown as { betas?: unknown; momentum?: unknown; nesterov?: unknown };
  // the name its own messages start with ("SGD", "Adam", ...)
  const name = (optimizer as unknown as { owner: string }).owner;
  const fields = ["baseMomentum", "maxMomentum"] as const;
  if (Array.isArray(o.betas) && o.betas.length === 2) {
    for (const f of fields) {
      if (h[f] >= 1)
        throw optimError(OWNER, `${prefix}${f}`, `a number in [0, 1) to be ${name}'s beta1`, h[f]);
    }
    return (m) => {
      o.betas = [m, (o.betas as number[])[1]];
    };
  }
  if (typeof o.momentum === "number") {
    // SGD's Nesterov rule needs momentum > 0 at every step (its state dict would not load otherwise)
    for (const f of fields) {
      if (o.nesterov === true && h[f] === 0) {
        throw optimError(OWNER, `${prefix}${f}`, `a number > 0 for ${name} with Nesterov momentum`, h[f]);
      }
    }
    return (m) => {
      o.momentum = m;
    };
  }
  throw optimError(
    OWNER,
    `${prefix}cycleMomentum`,
    "false for an optimizer without momentum or betas (SGD, Adam and AdamW have them)",
    name,
  );
}

export const onecycleEntry: SchedulerEntry<typeof onecycleConfigSchema> = {
  kind: "onecycle",
  schema: onecycleConfigSchema,
  interval: "step",
  create: ({ kind: _, ...options }, optimizer, context) => {
    const own = ownTotalSteps(options);
    const caller = context.totalSteps;
    if (own === undefined) return new OneCycleLR(optimizer, { ...options, totalSteps: caller });
    // fewer steps than the caller will take would throw at step own + 1, mid-training: say so before it starts
    if (caller !== undefined && own < caller) {
      const got =
        options.totalSteps !== undefined ? `${own}` : `${options.epochs} x ${options.stepsPerEpoch} = ${own}`;
      throw new OptimError(
        `${OWNER}: totalSteps: expected at least the ${caller} optimizer steps the caller will take (createScheduler's context.totalSteps), got ${got}`,
        "totalSteps",
      );
    }
    return new OneCycleLR(optimizer, options);
  },
};
