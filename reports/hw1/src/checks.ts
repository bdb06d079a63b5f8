/**
 * Questions 1 and 2: the numerical verification tables. The analytical gradients and the central
 * differences come from identities.ts (Q1's matrix identities) and q2-checks.ts (the implemented backward
 * passes), both on @nabla/nn's gradcheck; this file only turns their records into table rows.
 */
import { GRADCHECK_FLOOR, GRADCHECK_STEP, type GradientCheck } from "@nabla/nn";
import { checkIdentities } from "./identities.js";
import { checkQ2Gradients } from "./q2-checks.js";

/** Every check must be below this max relative error (the original's tests used 1e-5, 1e-6 for ReLU). */
export const CHECK_TOLERANCE = 1e-6;
/** How many leading entries of each gradient the table shows. */
const SHOWN_ENTRIES = 3;

export interface VerificationRow {
  /** TeX of the checked derivative. */
  quantity: string;
  /** Which module or identity ("Linear", "1a", ...). */
  subject: string;
  shape: string;
  analytical: number[];
  numerical: number[];
  maxRelError: number;
  maxAbsError: number;
  tolerance: number;
  pass: boolean;
}

export interface CheckTables {
  seed: number;
  step: number;
  floor: number;
  tolerance: number;
  q1: Record<"a" | "b" | "c" | "d", VerificationRow>;
  q2: {
    linear: VerificationRow[];
    relu: VerificationRow[];
    softmax: VerificationRow[];
    losses: VerificationRow[];
    mlp: VerificationRow[];
  };
  allPass: boolean;
  count: number;
}

function row(check: GradientCheck, quantity: string, subject: string): VerificationRow {
  return {
    quantity,
    subject,
    shape: check.shape.join("×"),
    analytical: Array.from(check.analytical.subarray(0, SHOWN_ENTRIES)),
    numerical: Array.from(check.numerical.subarray(0, SHOWN_ENTRIES)),
    maxRelError: check.maxRelativeError,
    maxAbsError: check.maxAbsoluteError,
    tolerance: CHECK_TOLERANCE,
    pass: check.maxRelativeError <= CHECK_TOLERANCE,
  };
}

const IDENTITY_TEX: Record<string, string> = {
  "1a": "\\partial(\\mathbf{x}^\\top\\mathbf{B}\\mathbf{x})/\\partial\\mathbf{x}",
  "1b": "\\partial\\operatorname{tr}(\\mathbf{V}\\mathbf{X}\\mathbf{W})/\\partial\\mathbf{X}",
  "1c": "\\partial\\lVert\\mathbf{w}\\rVert/\\partial\\mathbf{w}",
  "1d": "\\partial\\operatorname{tr}(\\mathbf{S})/\\partial\\mathbf{S}",
};

/** TeX for a Q2 record, from the module name and what it was differentiated with respect to. */
function q2Tex(check: GradientCheck): string {
  const wrt = check.wrt;
  if (check.name === "MLP + SoftmaxCrossEntropy") {
    // Parameters are named "layers.<k>.weight" / "layers.<k>.bias" (k from 0); shown as W^(k+1), b^(k+1).
    const m = /(\d+)\.(weight|bias)$/.exec(wrt);
    if (m)
      return `\\partial L/\\partial ${m[2] === "weight" ? "\\mathbf{W}" : "\\mathbf{b}"}^{(${Number(m[1]) + 1})}`;
    return `\\partial L/\\partial\\,\\text{${wrt.replace(/[^A-Za-z0-9.]/g, "")}}`;
  }
  if (wrt === "weight") return "\\partial L/\\partial\\mathbf{W}";
  if (wrt === "bias") return "\\partial L/\\partial\\mathbf{b}";
  if (check.name === "CrossEntropy") return "\\partial L/\\partial\\mathbf{Y}";
  return "\\partial L/\\partial\\mathbf{X}";
}

/** Runs every check of Q1 and Q2 (float64, central differences with h = 1e-5). Takes well under a second. */
export function computeCheckTables(seed = 0): CheckTables {
  const identities = checkIdentities({ seed });
  const byId = new Map(identities.map((c) => [c.id, c]));
  const q1Row = (id: string) => {
    const c = byId.get(id);
    if (!c) throw new Error(`checkIdentities returned no check "${id}"`);
    return row(c, IDENTITY_TEX[id], id);
  };
  const q2 = checkQ2Gradients({ seed });
  const pick = (name: string) => {
    const rows = q2.filter((c) => c.name === name).map((c) => row(c, q2Tex(c), name));
    if (rows.length === 0) throw new Error(`checkQ2Gradients returned no check for ${name}`);
    return rows;
  };
  const tables: CheckTables = {
    seed,
    step: GRADCHECK_STEP,
    floor: GRADCHECK_FLOOR,
    tolerance: CHECK_TOLERANCE,
    q1: { a: q1Row("1a"), b: q1Row("1b"), c: q1Row("1c"), d: q1Row("1d") },
    q2: {
      linear: pick("Linear"),
      relu: pick("ReLU"),
      softmax: pick("Softmax"),
      losses: [...pick("CrossEntropy"), ...pick("SoftmaxCrossEntropy")],
      mlp: pick("MLP + SoftmaxCrossEntropy"),
    },
    allPass: false,
    count: 0,
  };
  const all = [...Object.values(tables.q1), ...Object.values(tables.q2).flat()];
  tables.allPass = all.every((r) => r.pass);
  tables.count = all.length;
  return tables;
}
