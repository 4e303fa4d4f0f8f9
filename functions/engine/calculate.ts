import Decimal from "decimal.js";
import type { Operand } from "../../shared/api.js";
import { LIMITS } from "../../shared/limits.js";
import { describeArity, OPERATION_ARITY, type Operation } from "../../shared/operations.js";

/**
 * The pure calculation engine. No I/O, no clock: the same input always gives the same output.
 *
 * Every operation rounds once, to the requested number of significant digits, with
 * ROUND_HALF_EVEN: what it computes before that is exact. Operands have at most 38 significant
 * digits and exponents in [-130, 125], so every sum and difference of them, and every product of
 * up to WORKING_PRECISION digits, fits the working precision exactly; longer products and integer
 * powers are computed exactly with BigInt. Division, sqrt and mean are correctly rounded by
 * decimal.js; stddev checks decimal.js's estimate with exact arithmetic; a non-integer power is
 * decimal.js's `pow` at the requested precision (its documented error: at most one unit in the
 * last place, almost always correctly rounded).
 */

/** Wide enough that sums of squares of any valid operand list stay exact. */
const WORKING_PRECISION = 1100;

const Working = Decimal.clone({
  precision: WORKING_PRECISION,
  rounding: Decimal.ROUND_HALF_EVEN,
  modulo: Decimal.ROUND_DOWN,
  // Plain notation for every value a 38-digit result can show exactly (2^100 prints all its
  // digits); exponent notation like JavaScript's below 1e-7.
  toExpPos: LIMITS.maxSignificantDigits,
  toExpNeg: -7,
});

const byPrecision = new Map<number, typeof Decimal>();
/** A Decimal constructor that rounds to `precision` significant digits, half to even. */
function decimalWithPrecision(precision: number): typeof Decimal {
  let ctor = byPrecision.get(precision);
  if (ctor === undefined) {
    ctor = Decimal.clone({ precision, rounding: Decimal.ROUND_HALF_EVEN });
    byPrecision.set(precision, ctor);
  }
  return ctor;
}

export type EngineFailureSlug =
  | "validation-failed"
  | "operand-out-of-range"
  | "division-by-zero"
  | "undefined-result"
  | "exponent-too-large"
  | "result-out-of-range";

export interface EngineFailure {
  slug: EngineFailureSlug;
  detail: string;
  /** JSON Pointer of the offending field in the request body. */
  pointer: string;
}

export interface EngineInput {
  operation: Operation;
  operands: readonly Operand[];
  /** Significant digits of the result, 1–38; 38 when absent. */
  precision?: number | undefined;
}

export interface EngineSuccess {
  ok: true;
  result: string;
  /** The operands as canonical decimal strings. */
  operands: string[];
}

export type EngineOutcome = EngineSuccess | { ok: false; failure: EngineFailure };

class CalculationFailure extends Error {
  constructor(readonly failure: EngineFailure) {
    super(failure.detail);
  }
}

function fail(slug: EngineFailureSlug, pointer: string, detail: string): never {
  throw new CalculationFailure({ slug, pointer, detail });
}

function fitsDynamoNumber(value: Decimal): boolean {
  return value.isZero() || (value.e >= LIMITS.minExponent && value.e <= LIMITS.maxExponent);
}

/**
 * The decimal exponent of a decimal string's first significant digit (2 for "123.4", -3 for
 * "0.001"), or undefined for zero. In BigInt: decimal.js would flush an exponent beyond about
 * ±9e15 to 0 or Infinity before any range check could see it.
 */
function leadingExponent(text: string): bigint | undefined {
  const [mantissa = "", exponent = "0"] = text.replace(/^[+-]/, "").split(/[eE]/);
  const [whole = "", fraction = ""] = mantissa.split(".");
  const first = (whole + fraction).search(/[1-9]/);
  if (first === -1) return undefined;
  return BigInt(exponent) + BigInt(whole.length - 1 - first);
}

function outOfRange(index: number): never {
  return fail(
    "operand-out-of-range",
    `/operands/${index}`,
    `operands[${index}] is out of range: non-zero magnitudes must lie between 1e${LIMITS.minExponent} and 1e${LIMITS.maxExponent + 1}.`,
  );
}

function parseOperand(raw: Operand, index: number): Decimal {
  const pointer = `/operands/${index}`;
  if (typeof raw === "string") {
    const exponent = leadingExponent(raw);
    if (exponent !== undefined && (exponent < LIMITS.minExponent || exponent > LIMITS.maxExponent)) outOfRange(index);
  }
  let value: Decimal;
  try {
    value = new Working(raw);
  } catch {
    return fail("validation-failed", pointer, `operands[${index}] is not a decimal number.`);
  }
  if (!value.isFinite()) {
    return fail("validation-failed", pointer, `operands[${index}] must be finite.`);
  }
  if (value.isZero()) return new Working(0);
  const digits = value.sd();
  if (digits > LIMITS.maxSignificantDigits) {
    fail(
      "operand-out-of-range",
      pointer,
      `operands[${index}] has ${digits} significant digits; at most ${LIMITS.maxSignificantDigits} fit a DynamoDB Number.`,
    );
  }
  if (!fitsDynamoNumber(value)) outOfRange(index);
  return value;
}

function checkArity(operation: Operation, count: number): void {
  const { min, max } = OPERATION_ARITY[operation];
  if (count < min || (max !== undefined && count > max)) {
    fail(
      "validation-failed",
      "/operands",
      `${operation} takes ${describeArity(operation)}, but ${count} ${count === 1 ? "was" : "were"} given.`,
    );
  }
}

function sum(values: readonly Decimal[]): Decimal {
  return values.reduce((acc, v) => acc.plus(v), new Working(0));
}

function product(values: readonly Decimal[]): Decimal {
  return values.reduce((acc, v) => acc.times(v), new Working(1));
}

/** A value as an integer coefficient and a power of ten: 12.5 is 125 × 10^-1. */
function coefficientAndExponent(value: Decimal): [bigint, number] {
  const [mantissa = "0", exponent = "0"] = value.toExponential().split("e");
  const digits = mantissa.replace(".", "");
  return [BigInt(digits), Number(exponent) - (digits.replace("-", "").length - 1)];
}

/** The product however many digits it has: Working holds WORKING_PRECISION, BigInt the rest. */
function exactProduct(values: readonly Decimal[]): Decimal {
  const digits = values.reduce((total, value) => total + value.sd(), 0);
  if (digits <= WORKING_PRECISION) return product(values);
  let coefficient = 1n;
  let exponent = 0;
  for (const value of values) {
    const [c, e] = coefficientAndExponent(value);
    coefficient *= c;
    exponent += e;
  }
  return new Working(`${coefficient}e${exponent}`);
}

/** base^count exactly, for a whole count ≥ 0 (at most 38 × 1000 digits). */
function exactPower(base: Decimal, count: number): Decimal {
  const [coefficient, exponent] = coefficientAndExponent(base);
  return new Working(`${coefficient ** BigInt(count)}e${exponent * count}`);
}

function requireNonZeroDivisors(divisors: readonly Decimal[], firstIndex: number): void {
  const zeroAt = divisors.findIndex((d) => d.isZero());
  if (zeroAt !== -1) {
    const index = firstIndex + zeroAt;
    fail("division-by-zero", `/operands/${index}`, `operands[${index}] is zero: cannot divide by zero.`);
  }
}

function power(base: Decimal, exponent: Decimal, precision: number): Decimal {
  if (exponent.abs().gt(LIMITS.maxPowerExponent)) {
    fail(
      "exponent-too-large",
      "/operands/1",
      `The exponent's magnitude must be at most ${LIMITS.maxPowerExponent}; larger powers cannot fit the result range.`,
    );
  }
  if (base.isZero()) {
    if (exponent.isNegative()) {
      fail("division-by-zero", "/operands/0", "Zero raised to a negative power divides by zero.");
    }
    return new Working(exponent.isZero() ? 1 : 0);
  }
  if (base.isNegative() && !exponent.isInteger()) {
    fail("undefined-result", "/operands/1", "A negative base raised to a non-integer exponent has no real result.");
  }
  // Reject results that cannot fit before computing them, so no power costs more than the check.
  // Valid operands lie within a double's range, so a double estimate is enough here.
  const log10Magnitude = exponent.toNumber() * Math.log10(base.abs().toNumber());
  if (log10Magnitude > LIMITS.maxExponent + 2 || log10Magnitude < LIMITS.minExponent - 2) {
    fail(
      "result-out-of-range",
      "/operands",
      `The result would be about 1e${Math.round(log10Magnitude)}, outside the range a DynamoDB Number can hold.`,
    );
  }
  if (exponent.isInteger()) {
    // Exact, so the only rounding is calculate()'s (or, for a negative exponent, this division's).
    const magnitude = exactPower(base, exponent.abs().toNumber());
    return exponent.isNegative() ? new Working(new (decimalWithPrecision(precision))(1).div(magnitude)) : magnitude;
  }
  return new Working(new (decimalWithPrecision(precision))(base).pow(exponent));
}

/** Whether the last of `precision` significant digits of `value` is even. */
function endsEven(value: Decimal, precision: number): boolean {
  return value
    .times(new Working(10).pow(precision - 1 - value.e))
    .mod(2)
    .isZero();
}

/**
 * √(numerator / denominator) rounded once to `precision` digits, half to even. decimal.js's
 * square root of the quotient to a few more digits is off by at most one unit in the last place; comparing
 * squares of the midpoints around it with the exact quotient (exact: they have few digits) moves
 * it to the correctly rounded value and breaks exact ties to even.
 */
function roundedSquareRoot(numerator: Decimal, denominator: number, precision: number): Decimal {
  if (numerator.isZero()) return new Working(0);
  const quotient = new (decimalWithPrecision(precision + 3))(numerator).div(denominator);
  let candidate = new Working(new (decimalWithPrecision(precision))(quotient).sqrt());
  for (;;) {
    const unit = new Working(10).pow(candidate.e - precision + 1);
    // Below a power of ten the digits get a decade smaller: 1.00 follows 0.999.
    const unitBelow = candidate.eq(new Working(10).pow(candidate.e)) ? unit.div(10) : unit;
    const compareSquare = (midpoint: Decimal) => midpoint.times(midpoint).times(denominator).comparedTo(numerator);
    const belowLower = compareSquare(candidate.minus(unitBelow.div(2)));
    const belowUpper = compareSquare(candidate.plus(unit.div(2)));
    if (belowLower > 0) candidate = candidate.minus(unitBelow);
    else if (belowUpper < 0) candidate = candidate.plus(unit);
    else if (belowLower === 0 && !endsEven(candidate, precision)) return candidate.minus(unitBelow);
    else if (belowUpper === 0 && !endsEven(candidate, precision)) return candidate.plus(unit);
    else return candidate;
  }
}

function standardDeviation(values: readonly Decimal[], sample: boolean, precision: number): Decimal {
  const n = values.length;
  // n·Σx² − (Σx)² is exact in the working precision; the square root rounds once.
  const numerator = sum(values.map((v) => v.times(v)))
    .times(n)
    .minus(sum(values).pow(2));
  return roundedSquareRoot(numerator, sample ? n * (n - 1) : n * n, precision);
}

function median(values: readonly Decimal[]): Decimal {
  const sorted = [...values].sort((a, b) => a.comparedTo(b));
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] as Decimal;
  if (sorted.length % 2 === 1) return upper;
  return (sorted[middle - 1] as Decimal).plus(upper).div(2);
}

function compute(operation: Operation, values: Decimal[], precision: number): Decimal {
  const Result = decimalWithPrecision(precision);
  const [first, second] = values as [Decimal, Decimal, ...Decimal[]];
  switch (operation) {
    case "add":
      return sum(values);
    case "subtract":
      return values.slice(1).reduce((acc, v) => acc.minus(v), first);
    case "multiply":
      return exactProduct(values);
    case "divide": {
      // a / b / c = a / (b·c): the divisor product is exact, so the result rounds once.
      requireNonZeroDivisors(values.slice(1), 1);
      return new Working(new Result(first).div(exactProduct(values.slice(1))));
    }
    case "power":
      return power(first, second, precision);
    case "modulo":
      requireNonZeroDivisors([second], 1);
      return first.mod(second);
    case "sqrt":
      if (first.isNegative()) {
        fail("undefined-result", "/operands/0", "The square root of a negative number is not a real number.");
      }
      return new Working(new Result(first).sqrt());
    case "abs":
      return first.abs();
    case "min":
      return Working.min(...values);
    case "max":
      return Working.max(...values);
    case "mean":
      return new Working(new Result(sum(values)).div(values.length));
    case "median":
      return median(values);
    case "stddev":
      return standardDeviation(values, false, precision);
    case "stddev_sample":
      return standardDeviation(values, true, precision);
  }
}

/** Calculates `operation` over `operands`. Never throws for any input the schema lets through. */
export function calculate(input: EngineInput): EngineOutcome {
  const precision = input.precision ?? LIMITS.maxSignificantDigits;
  try {
    checkArity(input.operation, input.operands.length);
    const values = input.operands.map(parseOperand);
    const exact = compute(input.operation, values, precision);
    const rounded = exact.toSignificantDigits(precision, Decimal.ROUND_HALF_EVEN);
    if (!fitsDynamoNumber(rounded)) {
      const direction = rounded.e > LIMITS.maxExponent ? "too large" : "too close to zero";
      fail(
        "result-out-of-range",
        "/operands",
        `The result is ${direction}: non-zero magnitudes must lie between 1e${LIMITS.minExponent} and 1e${LIMITS.maxExponent + 1} to fit a DynamoDB Number.`,
      );
    }
    return {
      ok: true,
      result: (rounded.isZero() ? new Working(0) : rounded).toString(),
      operands: values.map((v) => v.toString()),
    };
  } catch (error) {
    if (error instanceof CalculationFailure) return { ok: false, failure: error.failure };
    throw error;
  }
}

/** The canonical text of a stored number (DynamoDB hands Numbers back in its own notation). */
export function canonicalDecimal(text: string): string {
  return new Working(text).toString();
}
