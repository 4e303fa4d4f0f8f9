import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LIMITS } from "../../shared/limits.js";
import { OPERATIONS } from "../../shared/operations.js";
import { calculate, type EngineOutcome } from "../engine/calculate.js";

/**
 * Valid operands whose sums and differences stay exact: ≤ 15 digits and exponents in ±10 span
 * at most 35 digits, inside the 38 a result keeps.
 */
const decimalString = fc
  .tuple(fc.bigInt({ min: -(10n ** 15n) + 1n, max: 10n ** 15n - 1n }), fc.integer({ min: -10, max: 10 }))
  .map(([mantissa, exponent]) => `${mantissa}e${exponent}`);

/** Anything the schema lets through: numbers and decimal strings, valid or not for the engine. */
const anyOperand = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  decimalString,
  fc
    .tuple(fc.bigInt({ min: -(10n ** 60n), max: 10n ** 60n }), fc.integer({ min: -400, max: 400 }))
    .map(([m, e]) => `${m}e${e}`),
);

const integerWithDigits = (digits: number) =>
  fc.bigInt({ min: -(10n ** BigInt(digits)) + 1n, max: 10n ** BigInt(digits) - 1n });

function ok(outcome: EngineOutcome): string {
  if (!outcome.ok) throw new Error(`${outcome.failure.slug}: ${outcome.failure.detail}`);
  return outcome.result;
}

/** Significant digits and decimal exponent of a non-zero result, read independently of decimal.js. */
function shape(result: string): { digits: number; exponent: number } {
  const match = /^-?(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/.exec(result);
  if (match === null) throw new Error(`not a decimal: ${result}`);
  const [, whole = "", fraction = "", exponent = "0"] = match;
  const digits = `${whole}${fraction}`;
  const leadingZeros = digits.length - digits.replace(/^0+/, "").length;
  return {
    digits: digits.replace(/^0+/, "").replace(/0+$/, "").length,
    exponent: Number(exponent) + whole.length - 1 - leadingZeros,
  };
}

/** An integer result (plain or exponent notation) as a BigInt. */
function toBigInt(result: string): bigint {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:e\+?(\d+))?$/.exec(result);
  if (match === null) throw new Error(`not an integer: ${result}`);
  const [, sign = "", whole = "", fraction = "", exponent = "0"] = match;
  const digits = BigInt(`${whole}${fraction}`) * 10n ** BigInt(Number(exponent) - fraction.length);
  return sign === "-" ? -digits : digits;
}

describe("calculation engine properties", () => {
  it("adds integers exactly, agreeing with BigInt", () => {
    fc.assert(
      fc.property(integerWithDigits(37), integerWithDigits(37), (a, b) => {
        expect(toBigInt(ok(calculate({ operation: "add", operands: [a.toString(), b.toString()] })))).toBe(a + b);
      }),
    );
  });

  it("multiplies integers exactly while the product fits 38 digits, agreeing with BigInt", () => {
    fc.assert(
      fc.property(integerWithDigits(19), integerWithDigits(19), (a, b) => {
        expect(toBigInt(ok(calculate({ operation: "multiply", operands: [a.toString(), b.toString()] })))).toBe(a * b);
      }),
    );
  });

  it("is commutative for add and multiply", () => {
    fc.assert(
      fc.property(decimalString, decimalString, (a, b) => {
        for (const operation of ["add", "multiply"] as const) {
          expect(ok(calculate({ operation, operands: [a, b] }))).toBe(ok(calculate({ operation, operands: [b, a] })));
        }
      }),
    );
  });

  it("undoes a subtraction with an addition exactly", () => {
    fc.assert(
      fc.property(decimalString, decimalString, (a, b) => {
        const difference = ok(calculate({ operation: "subtract", operands: [a, b] }));
        const canonicalA = ok(calculate({ operation: "add", operands: [a, 0] }));
        expect(ok(calculate({ operation: "add", operands: [difference, b] }))).toBe(canonicalA);
      }),
    );
  });

  it("keeps mean and median between min and max, and stddev non-negative", () => {
    fc.assert(
      fc.property(fc.array(decimalString, { minLength: 2, maxLength: 40 }), (operands) => {
        const min = ok(calculate({ operation: "min", operands }));
        const max = ok(calculate({ operation: "max", operands }));
        for (const operation of ["mean", "median"] as const) {
          const value = ok(calculate({ operation, operands }));
          expect(ok(calculate({ operation: "subtract", operands: [value, min] }))).not.toMatch(/^-/);
          expect(ok(calculate({ operation: "subtract", operands: [max, value] }))).not.toMatch(/^-/);
        }
        expect(ok(calculate({ operation: "stddev", operands }))).not.toMatch(/^-/);
        expect(ok(calculate({ operation: "stddev_sample", operands }))).not.toMatch(/^-/);
      }),
    );
  });

  it("gives a stddev of zero for a constant list", () => {
    fc.assert(
      fc.property(decimalString, fc.integer({ min: 2, max: 50 }), (value, count) => {
        expect(ok(calculate({ operation: "stddev", operands: Array(count).fill(value) }))).toBe("0");
      }),
    );
  });

  it("never throws, and every result fits a DynamoDB Number within the requested precision", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...OPERATIONS),
        fc.array(anyOperand, { maxLength: 12 }),
        fc.option(fc.integer({ min: 1, max: 38 }), { nil: undefined }),
        (operation, operands, precision) => {
          const outcome = calculate({ operation, operands, precision });
          if (!outcome.ok) {
            expect(outcome.failure.pointer).toMatch(/^\/operands(\/\d+)?$/);
            expect(outcome.failure.detail.length).toBeGreaterThan(10);
            return;
          }
          if (outcome.result === "0") return;
          const { digits, exponent } = shape(outcome.result);
          expect(digits).toBeLessThanOrEqual(precision ?? LIMITS.maxSignificantDigits);
          expect(exponent).toBeGreaterThanOrEqual(LIMITS.minExponent);
          expect(exponent).toBeLessThanOrEqual(LIMITS.maxExponent);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("refuses every power whose exponent exceeds the bound", () => {
    fc.assert(
      fc.property(
        decimalString,
        fc.integer({ min: LIMITS.maxPowerExponent + 1, max: 1e9 }),
        fc.boolean(),
        (base, exponent, negative) => {
          const outcome = calculate({ operation: "power", operands: [base, negative ? -exponent : exponent] });
          expect(outcome.ok ? "ok" : outcome.failure.slug).toMatch(/^(exponent-too-large|division-by-zero)$/);
        },
      ),
    );
  });
});
