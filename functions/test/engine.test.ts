import { describe, expect, it } from "vitest";
import { calculate, type EngineInput } from "../engine/calculate.js";

function resultOf(input: EngineInput): string {
  const outcome = calculate(input);
  if (!outcome.ok) throw new Error(`expected a result, got ${outcome.failure.slug}: ${outcome.failure.detail}`);
  return outcome.result;
}

function failureOf(input: EngineInput) {
  const outcome = calculate(input);
  if (outcome.ok) throw new Error(`expected a failure, got ${outcome.result}`);
  return outcome.failure;
}

describe("calculation engine", () => {
  it("adds 0.1 and 0.2 to exactly 0.3", () => {
    expect(resultOf({ operation: "add", operands: [0.1, 0.2] })).toBe("0.3");
  });

  it("accepts decimal strings and JSON numbers alike", () => {
    expect(resultOf({ operation: "add", operands: ["0.1", 0.2, "+1e-1"] })).toBe("0.4");
  });

  it("folds subtract and divide from the left", () => {
    expect(resultOf({ operation: "subtract", operands: [10, 3, 2] })).toBe("5");
    expect(resultOf({ operation: "divide", operands: [100, 4, 5] })).toBe("5");
  });

  it("rounds a non-terminating quotient to 38 significant digits, half to even", () => {
    expect(resultOf({ operation: "divide", operands: [2, 3] })).toBe("0.66666666666666666666666666666666666667");
  });

  it("rounds to the requested precision with ROUND_HALF_EVEN", () => {
    expect(resultOf({ operation: "divide", operands: [2, 3], precision: 5 })).toBe("0.66667");
    expect(resultOf({ operation: "add", operands: ["0.125", 0], precision: 2 })).toBe("0.12");
    expect(resultOf({ operation: "add", operands: ["0.135", 0], precision: 2 })).toBe("0.14");
  });

  it("rounds an exact product beyond 38 digits to 38", () => {
    expect(resultOf({ operation: "multiply", operands: ["12345678901234567890", "98765432109876543210"] })).toBe(
      "1.2193263113702179522374638011112635269e+39",
    );
    expect(resultOf({ operation: "power", operands: [2, 100] })).toBe("1267650600228229401496703205376");
    expect(resultOf({ operation: "multiply", operands: ["1e18", "1e19"] })).toBe(
      "10000000000000000000000000000000000000",
    );
    expect(resultOf({ operation: "multiply", operands: ["1e19", "1e19"] })).toBe("1e+38");
    expect(resultOf({ operation: "divide", operands: [1, "1e8"] })).toBe("1e-8");
  });

  it("computes power, modulo, sqrt and abs", () => {
    expect(resultOf({ operation: "power", operands: [2, 10] })).toBe("1024");
    expect(resultOf({ operation: "power", operands: [2, -2] })).toBe("0.25");
    expect(resultOf({ operation: "power", operands: [0, 0] })).toBe("1");
    expect(resultOf({ operation: "modulo", operands: [-7, 3] })).toBe("-1");
    expect(resultOf({ operation: "modulo", operands: ["7.5", 2] })).toBe("1.5");
    expect(resultOf({ operation: "sqrt", operands: [2] })).toBe("1.4142135623730950488016887242096980786");
    expect(resultOf({ operation: "abs", operands: ["-0.5"] })).toBe("0.5");
  });

  it("computes min, max, mean and median", () => {
    expect(resultOf({ operation: "min", operands: [3, "-1.5", 2] })).toBe("-1.5");
    expect(resultOf({ operation: "max", operands: [3, "-1.5", 2] })).toBe("3");
    expect(resultOf({ operation: "mean", operands: [1, 2, 2] })).toBe("1.6666666666666666666666666666666666667");
    expect(resultOf({ operation: "median", operands: [5, 1, 3] })).toBe("3");
    expect(resultOf({ operation: "median", operands: [4, 1, 3, 2] })).toBe("2.5");
  });

  it("computes population and sample standard deviation", () => {
    expect(resultOf({ operation: "stddev", operands: [2, 4, 4, 4, 5, 5, 7, 9] })).toBe("2");
    expect(resultOf({ operation: "stddev_sample", operands: [2, 4, 4, 4, 5, 5, 7, 9] })).toBe(
      "2.1380899352993950774764278470380281724",
    );
    expect(resultOf({ operation: "stddev", operands: [7] })).toBe("0");
  });

  it("returns canonical operand strings", () => {
    const outcome = calculate({ operation: "add", operands: ["001.500", "-0", 1e21] });
    expect(outcome).toMatchObject({ ok: true, operands: ["1.5", "0", "1000000000000000000000"] });
  });

  it("refuses division and modulo by zero, pointing at the zero", () => {
    expect(failureOf({ operation: "divide", operands: [1, 2, 0] })).toMatchObject({
      slug: "division-by-zero",
      pointer: "/operands/2",
    });
    expect(failureOf({ operation: "modulo", operands: [1, "0.0"] })).toMatchObject({
      slug: "division-by-zero",
      pointer: "/operands/1",
    });
    expect(failureOf({ operation: "power", operands: [0, -1] }).slug).toBe("division-by-zero");
  });

  it("refuses results that are not real numbers", () => {
    expect(failureOf({ operation: "sqrt", operands: [-4] })).toMatchObject({
      slug: "undefined-result",
      pointer: "/operands/0",
    });
    expect(failureOf({ operation: "power", operands: [-8, "0.5"] }).slug).toBe("undefined-result");
  });

  it("bounds the exponent of power before computing anything", () => {
    expect(failureOf({ operation: "power", operands: ["1.0000001", 1_000_000_000] })).toMatchObject({
      slug: "exponent-too-large",
      pointer: "/operands/1",
    });
    expect(failureOf({ operation: "power", operands: [10, 999] }).slug).toBe("result-out-of-range");
  });

  it("refuses operands a DynamoDB Number cannot hold", () => {
    expect(failureOf({ operation: "add", operands: [1, "1e999999"] })).toMatchObject({
      slug: "operand-out-of-range",
      pointer: "/operands/1",
    });
    expect(failureOf({ operation: "add", operands: [1, "1e-131"] }).slug).toBe("operand-out-of-range");
    expect(failureOf({ operation: "add", operands: ["1234567890123456789012345678901234567891", 1] })).toMatchObject({
      slug: "operand-out-of-range",
      pointer: "/operands/0",
    });
  });

  it("refuses results outside the DynamoDB Number range", () => {
    expect(failureOf({ operation: "multiply", operands: ["1e100", "1e100"] }).slug).toBe("result-out-of-range");
    expect(failureOf({ operation: "divide", operands: ["1e-100", "1e100"] }).slug).toBe("result-out-of-range");
  });

  it("checks each operation's operand count", () => {
    expect(failureOf({ operation: "mean", operands: [] })).toMatchObject({
      slug: "validation-failed",
      pointer: "/operands",
    });
    expect(failureOf({ operation: "add", operands: [1] }).detail).toBe(
      "add takes at least 2 operands, but 1 was given.",
    );
    expect(failureOf({ operation: "sqrt", operands: [1, 2] }).detail).toBe(
      "sqrt takes exactly 1 operand, but 2 were given.",
    );
    expect(failureOf({ operation: "stddev_sample", operands: [1] }).slug).toBe("validation-failed");
  });
});
