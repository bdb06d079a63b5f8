/**
 * Number formatting for report text. Every function takes `null` to mean "no value" (rendered as an em
 * dash) and spells NaN/±Infinity out, because diverged runs legitimately produce them.
 */

const MISSING = "—";

function special(x: number | null): string | undefined {
  if (x === null) return MISSING;
  if (Number.isNaN(x)) return "NaN";
  if (x === Number.POSITIVE_INFINITY) return "∞";
  if (x === Number.NEGATIVE_INFINITY) return "−∞";
  return undefined;
}

function checkDigits(digits: number, what: string): number {
  if (!Number.isInteger(digits) || digits < 0 || digits > 20) {
    throw new RangeError(`${what}: digits must be an integer in [0, 20], got ${digits}`);
  }
  return digits;
}

/** Fixed number of decimals: formatFixed(0.47941, 4) === "0.4794". */
export function formatFixed(x: number | null, digits = 3): string {
  return special(x) ?? x!.toFixed(checkDigits(digits, "formatFixed"));
}

/** A fraction as a percentage: formatPercent(0.4794, 2) === "47.94 %". */
export function formatPercent(x: number | null, digits = 1): string {
  const s = special(x);
  if (s !== undefined) return s;
  return `${(x! * 100).toFixed(checkDigits(digits, "formatPercent"))} %`;
}

/** Integer with thin-space thousands separators: formatInteger(1000000) === "1 000 000" (U+2009). */
export function formatInteger(x: number | null): string {
  const s = special(x);
  if (s !== undefined) return s;
  const rounded = Math.round(x!);
  const sign = rounded < 0 ? "−" : "";
  return sign + String(Math.abs(rounded)).replace(/\B(?=(\d{3})+(?!\d))/g, "\u2009");
}

/** Mantissa and decimal exponent, mantissa rounded to `digits` decimals and renormalised (9.99 -> 1.00e1). */
function splitScientific(x: number, digits: number): { mantissa: string; exponent: number } {
  const [m, e] = x.toExponential(digits).split("e");
  return { mantissa: m, exponent: Number(e) };
}

/**
 * Scientific notation as plain text: formatScientific(1.234e-5, 2) === "1.23e-5". Used where HTML is not
 * wanted (chart labels, attributes); the `sci` template helper uses the typeset form below.
 */
export function formatScientific(x: number | null, digits = 2): string {
  const s = special(x);
  if (s !== undefined) return s;
  const { mantissa, exponent } = splitScientific(x!, checkDigits(digits, "formatScientific"));
  return `${mantissa}e${exponent}`;
}

/** Scientific notation as HTML: "1.23 × 10<sup>−5</sup>"; a mantissa of exactly 1 is dropped ("10<sup>−6</sup>"). */
export function formatScientificHtml(x: number | null, digits = 2): string {
  const s = special(x);
  if (s !== undefined) return s;
  if (x === 0) return "0";
  const { mantissa, exponent } = splitScientific(x!, checkDigits(digits, "formatScientificHtml"));
  const exp = `10<sup>${exponent < 0 ? "−" : ""}${Math.abs(exponent)}</sup>`;
  if (Number(mantissa) === 1) return exp;
  if (Number(mantissa) === -1) return `−${exp}`;
  return `${mantissa.replace("-", "−")} × ${exp}`;
}

/**
 * General format with `significant` significant digits: plain decimals for magnitudes in [1e-3, 1e5),
 * scientific (plain text) otherwise; trailing zeros trimmed. formatGeneral(0.1) === "0.1", formatGeneral(1e-6) === "1e-6".
 */
export function formatGeneral(x: number | null, significant = 4): string {
  const s = special(x);
  if (s !== undefined) return s;
  if (!Number.isInteger(significant) || significant < 1 || significant > 21) {
    throw new RangeError(`formatGeneral: significant must be an integer in [1, 21], got ${significant}`);
  }
  const v = x!;
  if (v === 0) return "0";
  const abs = Math.abs(v);
  if (abs >= 1e-3 && abs < 1e5) return String(Number(v.toPrecision(significant)));
  const { mantissa, exponent } = splitScientific(v, significant - 1);
  return `${String(Number(mantissa))}e${exponent}`;
}
