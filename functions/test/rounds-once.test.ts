import Decimal from "decimal.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { calculate, canonicalDecimal, type EngineInput } from "../engine/calculate.js";

function resultOf(input: EngineInput): string {
  const outcome = calculate(input);
  if (!outcome.ok) throw new Error(`${outcome.failure.slug}: ${outcome.failure.detail}`);
  return outcome.result;
}

/** decimal.js with room for every digit of the exact values these tests build. */
const Exact = Decimal.clone({ precision: 5000, rounding: Decimal.ROUND_HALF_EVEN });

/** What one rounding of `exact` to `precision` digits gives, in the engine's notation. */
function roundedOnce(exact: Decimal, precision: number): string {
  return canonicalDecimal(exact.toSignificantDigits(precision).toString());
}

/** A decimal string with `digits` random significant digits, either sign, and an exponent near zero. */
const longOperand = (digits: number) =>
  fc
    .tuple(
      fc.bigInt({ min: 10n ** BigInt(digits - 1), max: 10n ** BigInt(digits) - 1n }),
      fc.integer({ min: -3, max: 3 }),
      fc.boolean(),
    )
    .map(([coefficient, exponent, negative]) => `${negative ? "-" : ""}${coefficient}e${exponent - digits + 1}`);

describe("rounding once", () => {
  it("rounds an integer power as the product of its factors is rounded", () => {
    // Prepare: the exact square is 1.000…0005000…000625, just above a tie at 30 digits.
    const base = "1.0000000000000000000000000000025";

    // Act
    const power = resultOf({ operation: "power", operands: [base, 2], precision: 30 });
    const product = resultOf({ operation: "multiply", operands: [base, base], precision: 30 });

    // Assess
    expect(power).toBe("1.00000000000000000000000000001");
    expect(power).toBe(product);
  });

  it("rounds a power with a negative integer exponent once", () => {
    // Prepare: 1 / 1.0000000000000000000000000000025² lies just below a tie at 30 digits.
    const base = "1.0000000000000000000000000000025";
    const exact = new Exact(1).div(new Exact(base).pow(2));

    // Act
    const power = resultOf({ operation: "power", operands: [base, -2], precision: 30 });

    // Assess
    expect(power).toBe(exact.toSignificantDigits(30).toString());
  });

  it("rounds a standard deviation that is exactly a tie to even", () => {
    // Prepare: the population standard deviation of 0 and 5 is exactly 2.5, of 0 and 7 exactly 3.5.

    // Act
    const twoPointFive = resultOf({ operation: "stddev", operands: [0, 5], precision: 1 });
    const threePointFive = resultOf({ operation: "stddev", operands: [0, 7], precision: 1 });

    // Assess
    expect([twoPointFive, threePointFive]).toEqual(["2", "4"]);
  });

  it("rounds a standard deviation just above a tie up", () => {
    // Prepare: σ(0, 5.0000000000000000000000000000002) = 2.5000000000000000000000000000001, above the tie at 1 digit.

    // Act
    const result = resultOf({ operation: "stddev", operands: [0, "5.0000000000000000000000000000002"], precision: 1 });

    // Assess
    expect(result).toBe("3");
  });

  it("rounds integer powers as one rounding of the exact power", () => {
    fc.assert(
      fc.property(
        longOperand(20),
        fc.integer({ min: 2, max: 6 }),
        fc.integer({ min: 1, max: 38 }),
        (base, exponent, precision) => {
          // Act
          const result = resultOf({ operation: "power", operands: [base, exponent], precision });

          // Assess
          expect(result).toBe(roundedOnce(new Exact(base).pow(exponent), precision));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("rounds products longer than the working precision once", () => {
    fc.assert(
      fc.property(
        fc.array(longOperand(38), { minLength: 30, maxLength: 40 }),
        fc.integer({ min: 1, max: 38 }),
        (operands, precision) => {
          // Prepare: 30 operands of 38 digits make a product of more than 1100 digits.
          const exact = operands.reduce((acc, operand) => acc.times(operand), new Exact(1));

          // Act
          const result = resultOf({ operation: "multiply", operands, precision });

          // Assess
          expect(result).toBe(roundedOnce(exact, precision));
        },
      ),
      { numRuns: 50 },
    );
  });

  it("rounds standard deviations as one rounding of the exact root", () => {
    fc.assert(
      fc.property(
        fc.array(longOperand(12), { minLength: 2, maxLength: 12 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 38 }),
        (operands, sample, precision) => {
          // Prepare: an estimate 100 digits longer than the result, which only an exact tie could round wrongly.
          const Wide = Decimal.clone({ precision: precision + 100, rounding: Decimal.ROUND_HALF_EVEN });
          const n = operands.length;
          const sum = operands.reduce((acc, x) => acc.plus(x), new Exact(0));
          const squares = operands.reduce((acc, x) => acc.plus(new Exact(x).times(x)), new Exact(0));
          const numerator = squares.times(n).minus(sum.times(sum));
          const estimate = new Wide(numerator).div(sample ? n * (n - 1) : n * n).sqrt();

          // Act
          const result = resultOf({ operation: sample ? "stddev_sample" : "stddev", operands, precision });

          // Assess
          expect(result).toBe(roundedOnce(new Exact(estimate), precision));
        },
      ),
      { numRuns: 300 },
    );
  });
});
