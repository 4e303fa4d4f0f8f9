import { describe, expect, it } from "vitest";
import type { CalculationRequest } from "../../shared/api.js";
import { calculate } from "../engine/calculate.js";
import { readJsonBody } from "../http.js";
import { postRaw } from "./support/events.js";

/** What the engine makes of a body's operands, read as the handler reads them. */
function calculateBody(body: string) {
  const request = readJsonBody(postRaw("/v1/calculations", body)) as CalculationRequest;
  return calculate({ operation: request.operation, operands: request.operands });
}

describe("JSON numbers beyond a double's range", () => {
  it.each([
    ["1e-400", "1e-400"],
    ["-1e-400", "-1e-400"],
    ["0.000…1 with 400 zeros", `0.${"0".repeat(400)}1`],
    ["1e400", "1e400"],
    ["-1e+0400", "-1e+0400"],
    ["a 400-digit integer", "9".repeat(400)],
  ])("refuses %s as out of range, as its decimal string is refused", (_label, number) => {
    // Act
    const outcome = calculateBody(`{"operation":"add","operands":[1,${number}]}`);

    // Assess
    expect(outcome).toMatchObject({ ok: false, failure: { slug: "operand-out-of-range", pointer: "/operands/1" } });
  });

  it("keeps a zero written with a long exponent a zero", () => {
    // Act
    const outcome = calculateBody('{"operation":"add","operands":[0e-400,-0.0e+999,1]}');

    // Assess
    expect(outcome).toMatchObject({ ok: true, result: "1" });
  });

  it("leaves strings that look like such numbers alone", () => {
    // Act
    const request = readJsonBody(postRaw("/v1/calculations", '{"id":"1e-400","operands":["1e400",1e-400]}'));

    // Assess
    expect(request).toEqual({ id: "1e-400", operands: ["1e400", Number.MIN_VALUE] });
  });

  it("finds numbers after strings holding quotes and backslashes", () => {
    // Act
    const request = readJsonBody(postRaw("/v1/calculations", '{"a":"x\\\\\\"1e-400","b":[1e-400]}'));

    // Assess
    expect(request).toEqual({ a: 'x\\"1e-400', b: [Number.MIN_VALUE] });
  });
});
