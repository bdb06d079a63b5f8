import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  formatFixed,
  formatGeneral,
  formatInteger,
  formatPercent,
  formatScientific,
  formatScientificHtml,
} from "./format.js";

describe("number formatting", () => {
  it("formats the usual cases", () => {
    expect(formatFixed(0.47941, 4)).toBe("0.4794");
    expect(formatPercent(0.4794, 2)).toBe("47.94 %");
    expect(formatInteger(1234567)).toBe("1\u2009234\u2009567");
    expect(formatInteger(-1000)).toBe("−1\u2009000");
    expect(formatScientific(1.234e-5, 2)).toBe("1.23e-5");
    expect(formatScientificHtml(1e-6, 2)).toBe("10<sup>−6</sup>");
    expect(formatScientificHtml(-2.5e3, 1)).toBe("−2.5 × 10<sup>3</sup>");
    expect(formatGeneral(0.1)).toBe("0.1");
    expect(formatGeneral(1e-6)).toBe("1e-6");
    expect(formatGeneral(100)).toBe("100");
    expect(formatGeneral(3.1622776601683795e-5, 3)).toBe("3.16e-5");
  });

  it("spells out null, NaN and infinities", () => {
    expect(formatFixed(null)).toBe("—");
    expect(formatPercent(Number.NaN)).toBe("NaN");
    expect(formatScientificHtml(Number.POSITIVE_INFINITY)).toBe("∞");
    expect(formatGeneral(Number.NEGATIVE_INFINITY)).toBe("−∞");
  });

  it("rejects nonsense digit counts", () => {
    expect(() => formatFixed(1, -1)).toThrow(/digits must be an integer/);
    expect(() => formatGeneral(1, 0)).toThrow(/significant/);
  });

  it("round-trips: the printed value is within half a unit of the last digit", () => {
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: 0, max: 8 }), (x, d) => {
        expect(Math.abs(Number(formatFixed(x, d)) - x)).toBeLessThanOrEqual(
          0.5 * 10 ** -d * (1 + 1e-9) + 1e-9,
        );
        const g = Number(formatGeneral(x, 6));
        expect(Math.abs(g - x)).toBeLessThanOrEqual(Math.abs(x) * 1e-5 + 1e-300);
      }),
      { numRuns: 300 },
    );
  });
});
