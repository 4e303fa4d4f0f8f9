import { describe, expect, it } from "vitest";
import { calculate, type EngineFailure, type EngineInput } from "../engine/calculate.js";

function failureOf(input: EngineInput): EngineFailure {
  const outcome = calculate(input);
  if (outcome.ok) throw new Error(`expected a failure, got ${outcome.result}`);
  return outcome.failure;
}

/** decimal.js flushes exponents below about -9e15 to 0 and above about 9e15 to Infinity. */
const BELOW_DECIMAL_JS = "1e-9000000000000001";
const ABOVE_DECIMAL_JS = "1e9000000000000001";

describe("operands beyond what decimal.js can hold", () => {
  it.each([
    ["add", [BELOW_DECIMAL_JS, 1], "/operands/0"],
    ["add", [`-${BELOW_DECIMAL_JS}`, 1], "/operands/0"],
    ["divide", [1, BELOW_DECIMAL_JS], "/operands/1"],
    ["multiply", [2, "0.0000001e-8999999999999999"], "/operands/1"],
  ])("refuses a too-small operand of %s as out of range, not as zero", (operation, operands, pointer) => {
    // Act
    const failure = failureOf({ operation: operation as EngineInput["operation"], operands });

    // Assess
    expect(failure).toMatchObject({ slug: "operand-out-of-range", pointer });
  });

  it("refuses a too-large operand as out of range, as it refuses 1e999999", () => {
    // Act
    const huge = failureOf({ operation: "add", operands: [1, ABOVE_DECIMAL_JS] });
    const large = failureOf({ operation: "add", operands: [1, "1e999999"] });

    // Assess
    expect(huge).toEqual(large);
    expect(huge).toMatchObject({ slug: "operand-out-of-range", pointer: "/operands/1" });
  });

  it("accepts a zero written with an exponent beyond decimal.js's range", () => {
    // Act
    const outcome = calculate({ operation: "add", operands: ["0e-9000000000000001", "0.000e9000000000000001", 1] });

    // Assess
    expect(outcome).toMatchObject({ ok: true, result: "1", operands: ["0", "0", "1"] });
  });

  it("accepts operands at the edges of the DynamoDB range written with long exponents", () => {
    // Act
    const outcome = calculate({
      operation: "add",
      operands: ["1000e-00000000000000133", "0.0099e+000000000000000127"],
    });

    // Assess
    expect(outcome).toMatchObject({ ok: true, operands: ["1e-130", "9.9e+124"] });
  });
});
