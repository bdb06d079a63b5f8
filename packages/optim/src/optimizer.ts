import type { Parameter } from "@nabla/ndarray";
import { lrSchema } from "./bounds.js";
import { optimError, parseWith } from "./errors.js";
import { checkParams } from "./params.js";

/** What every optimizer's stateDict() has in common; subclasses add their hyperparameters and per-param state. */
export interface OptimizerStateBase {
  type: string;
  lr: number;
  /** torch's param_group['initial_lr']: the lr when the first scheduler was attached (null if none was). */
  initialLr: number | null;
}

/**
 * Base of SGD/Adam/AdamW: one parameter group (torch's param_groups[0]) whose `lr` schedulers read and write.
 * `initialLr` mirrors torch's group['initial_lr'], set by the first scheduler attached, from which schedulers
 * take their base lr.
 */
export abstract class Optimizer {
  readonly params: readonly Parameter[];
  initialLr: number | undefined = undefined;
  protected readonly owner: string;
  private currentLr: number;

  protected constructor(owner: string, params: Parameter[], lr: number) {
    this.owner = owner;
    this.params = checkParams(owner, params);
    // the built-ins' options schemas checked it already; a subclass from user code may not have
    this.currentLr = parseWith(owner, "lr", lrSchema, lr);
  }

  get lr(): number {
    return this.currentLr;
  }

  set lr(value: number) {
    // schedulers set it every epoch: the same bound as the options' lr
    this.currentLr = parseWith(this.owner, "lr", lrSchema, value);
  }

  /** Applies one update to every parameter from its current `grad`. */
  abstract step(): void;

  /** Sets every gradient to 0 in place (torch 1.13's zero_grad() default, set_to_none=False). */
  zeroGrad(): void {
    for (let k = 0; k < this.params.length; k++) this.params[k].grad.data.fill(0);
  }

  /** A JSON-serialisable snapshot: hyperparameters, lr, and per-parameter state keyed by parameter name. */
  abstract stateDict(): OptimizerStateBase;

  /** Restores a stateDict() (validated fully before anything is changed). */
  abstract loadStateDict(state: unknown): void;

  protected checkStateHeader(state: unknown): Record<string, unknown> {
    if (state === null || typeof state !== "object" || Array.isArray(state)) {
      throw optimError(this.owner, "stateDict", "an object produced by stateDict()", state);
    }
    const s = state as Record<string, unknown>;
    if (s.type !== this.owner)
      throw optimError(this.owner, "stateDict.type", JSON.stringify(this.owner), s.type);
    parseWith(this.owner, "stateDict.lr", lrSchema, s.lr);
    if (s.initialLr !== null) parseWith(this.owner, "stateDict.initialLr", lrSchema, s.initialLr);
    const perParam = s.state;
    if (perParam === null || typeof perParam !== "object" || Array.isArray(perParam)) {
      throw optimError(this.owner, "stateDict.state", "an object keyed by parameter name", perParam);
    }
    for (const name of Object.keys(perParam)) {
      if (this.paramIndex(name) < 0) {
        throw optimError(
          this.owner,
          `stateDict.state[${JSON.stringify(name)}]`,
          "the name of a parameter",
          name,
        );
      }
    }
    return s;
  }

  protected restoreHeader(s: Record<string, unknown>): void {
    this.currentLr = s.lr as number;
    this.initialLr = s.initialLr === null ? undefined : (s.initialLr as number);
  }

  protected paramIndex(name: string): number {
    for (let k = 0; k < this.params.length; k++) if (this.params[k].name === name) return k;
    return -1;
  }
}
