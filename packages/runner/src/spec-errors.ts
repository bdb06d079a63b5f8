import { formatPath, zodTypeName } from "@nabla/optim";
import type { z } from "zod";

/**
 * Formatting of spec validation errors: one line per problem, `field.path: what was expected, got what`. The path
 * format and type names are @nabla/optim's (formatPath, zodTypeName), shared with its OptimError messages.
 */

function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  // JSON.parse turns 1e400 into Infinity, which JSON.stringify would print as null.
  if (typeof value === "number" && !Number.isFinite(value)) {
    return Number.isNaN(value)
      ? "NaN"
      : `${value > 0 ? "" : "-"}a number beyond the float64 range (${value})`;
  }
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** One line per zod issue: `field.path: what was expected (and what was found)`. */
function formatIssue(issue: z.core.$ZodIssue): string {
  const where = formatPath(issue.path);
  let what: string;
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys
        .map((k) => `${where === "" ? k : `${where}.${k}`}: unknown field (remove it or check its spelling)`)
        .join("; ");
    case "invalid_type": {
      const expected = zodTypeName(issue.expected);
      what =
        issue.input === undefined
          ? `missing (expected ${expected})`
          : `expected ${expected}, got ${describeValue(issue.input)}`;
      break;
    }
    case "too_small":
    case "too_big": {
      const bound = issue.code === "too_small" ? issue.minimum : issue.maximum;
      const op = issue.code === "too_small" ? (issue.inclusive ? ">=" : ">") : issue.inclusive ? "<=" : "<";
      if (issue.origin === "array" || issue.origin === "string") {
        const unit = issue.origin === "array" ? "item" : "character";
        const least = issue.code === "too_small" ? "at least" : "at most";
        what = `expected ${least} ${String(bound)} ${unit}${Number(bound) === 1 ? "" : "s"}`;
      } else {
        what = `expected a number ${op} ${String(bound)}, got ${describeValue(issue.input)}`;
      }
      break;
    }
    case "invalid_union": {
      // A wrong discriminator: the issue's input is the whole object, show the discriminator's value instead.
      const key = issue.path[issue.path.length - 1];
      const input = issue.input as Record<PropertyKey, unknown> | undefined;
      const found =
        input !== null && typeof input === "object" && key !== undefined ? input[key] : issue.input;
      what = `${issue.message}, got ${describeValue(found)}`;
      break;
    }
    default:
      what = issue.message.replace(/^Invalid input: /, "");
      if ("input" in issue && issue.input !== undefined && issue.code !== "custom") {
        what += `, got ${describeValue(issue.input)}`;
      }
  }
  return `${where === "" ? "(spec)" : where}: ${what}`;
}

/** Formats a zod error as one line naming the source, the first bad field and what was expected. */
export function formatSpecError(source: string, error: z.ZodError): string {
  const lines = error.issues.map(formatIssue);
  const more =
    lines.length > 1 ? ` (and ${lines.length - 1} more problem${lines.length > 2 ? "s" : ""})` : "";
  return `${source}: ${lines[0]}${more}`;
}
