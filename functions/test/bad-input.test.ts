import { beforeAll, describe, expect, it } from "vitest";
import { buildHttpApiEvent } from "../../shared/payload-v2.js";
import { PROBLEM_TYPE_PREFIX } from "../../shared/problem.js";
import { problemSchema } from "../../shared/responses.js";
import type { HttpResponse } from "../http.js";
import { type LoadedBundle, loadBundle } from "./support/bundle.js";
import { TEST_REGION, TEST_TABLE, useDynamoDbLocal } from "./support/dynamodb.js";
import { bodyOf, get, postJson, postRaw } from "./support/events.js";

interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { pointer?: string; header?: string; parameter?: string; detail: string }[];
  region: string;
}

const database = useDynamoDbLocal();
let bundle: LoadedBundle;

beforeAll(() => {
  bundle = loadBundle({ TABLE_NAME: TEST_TABLE, AWS_REGION: TEST_REGION, DYNAMODB_ENDPOINT: database.endpoint });
});

/** Asserts an RFC 9457 problem: status, stable type, a sentence, and where the error is. */
function expectProblem(
  response: HttpResponse,
  status: number,
  slug: string,
  where?: Record<string, string>,
): ProblemBody {
  const problem = bodyOf<ProblemBody>(response);
  expect(problemSchema.safeParse(problem).success).toBe(true);
  expect({ status: response.statusCode, type: problem.type }).toEqual({
    status,
    type: `${PROBLEM_TYPE_PREFIX}${slug}`,
  });
  expect(response.headers["content-type"]).toBe("application/problem+json");
  expect(problem.status).toBe(status);
  expect(problem.region).toBe(TEST_REGION);
  expect(problem.detail).toMatch(/^[A-Za-z0-9"`(].{10,}[.)]$/);
  if (where !== undefined) expect(problem.errors).toContainEqual(expect.objectContaining(where));
  return problem;
}

const calculations = "/v1/calculations";

describe("bad input", () => {
  it("rejects invalid JSON with 400", async () => {
    const problem = expectProblem(
      await bundle.handler(postRaw(calculations, '{"operation": "add",')),
      400,
      "invalid-json",
    );
    expect(problem.detail).toContain("not valid JSON");
  });

  it("rejects an empty body with 400", async () => {
    expectProblem(await bundle.handler(postRaw(calculations, "")), 400, "invalid-json");
  });

  it("rejects a missing content type with 415", async () => {
    expectProblem(
      await bundle.handler(postRaw(calculations, '{"operation":"add","operands":[1,2]}', {})),
      415,
      "unsupported-media-type",
      {
        header: "content-type",
      },
    );
  });

  it("rejects a wrong content type with 415", async () => {
    const event = postRaw(calculations, "operation=add", { "content-type": "text/plain" });
    expectProblem(await bundle.handler(event), 415, "unsupported-media-type");
  });

  it("answers an unknown route with 404 and lists the routes", async () => {
    const problem = expectProblem(await bundle.handler(get("/v2/calculations")), 404, "not-found");
    expect(problem.detail).toContain("POST /v1/calculations");
  });

  it("answers a wrong method with 405 and an Allow header", async () => {
    const response = await bundle.handler(buildHttpApiEvent({ method: "PUT", path: calculations }));
    expectProblem(response, 405, "method-not-allowed");
    expect(response.headers.allow).toBe("POST");
  });

  it("rejects an unknown operation, naming the valid ones", async () => {
    const problem = expectProblem(
      await bundle.handler(postJson(calculations, { operation: "cube", operands: [2] })),
      400,
      "validation-failed",
      {
        pointer: "/operation",
      },
    );
    expect(problem.detail).toContain("stddev_sample");
  });

  it.each([
    ["a word", [1, "abc"], "/operands/1"],
    ["an object", [{ value: 1 }, 2], "/operands/0"],
    ["a boolean", [1, true], "/operands/1"],
    ["null", [null, 1], "/operands/0"],
    ["the string NaN", ["NaN", 1], "/operands/0"],
    ["the string Infinity", [1, "Infinity"], "/operands/1"],
  ])("rejects %s as an operand, pointing at it", async (_label, operands, pointer) => {
    expectProblem(
      await bundle.handler(postJson(calculations, { operation: "add", operands })),
      400,
      "validation-failed",
      { pointer },
    );
  });

  it.each([
    ["NaN", '{"operation":"add","operands":[NaN,1]}'],
    ["Infinity", '{"operation":"add","operands":[1,Infinity]}'],
  ])("rejects the bare literal %s as invalid JSON", async (_label, body) => {
    expectProblem(await bundle.handler(postRaw(calculations, body)), 400, "invalid-json");
  });

  it("rejects the JSON number 1e999999, which JSON.parse overflows to Infinity, as out of range", async () => {
    const event = postRaw(calculations, '{"operation":"add","operands":[1e999999,1]}');
    expectProblem(await bundle.handler(event), 422, "operand-out-of-range", { pointer: "/operands/0" });
  });

  it("rejects the JSON number 1e-400, which JSON.parse flushes to 0, as out of range", async () => {
    const event = postRaw(calculations, '{"operation":"divide","operands":[1,1e-400]}');
    expectProblem(await bundle.handler(event), 422, "operand-out-of-range", { pointer: "/operands/1" });
  });

  it.each([
    // 22,000 bytes of 0xFF would be 66,000 bytes as text (U+FFFD for each): under the limit as sent.
    [22_000, 400, "invalid-json", "not UTF-8"],
    [70_000, 413, "payload-too-large", "70000 bytes"],
  ])("counts a body of %i bytes that are not UTF-8 as sent: %i", async (bytes, status, slug, detail) => {
    // Prepare
    const event = buildHttpApiEvent({
      method: "POST",
      path: calculations,
      headers: { "content-type": "application/json" },
      body: Buffer.alloc(bytes, 0xff),
    });

    // Act
    const response = await bundle.handler(event);

    // Assess
    expect(expectProblem(response, status, slug).detail).toContain(detail);
  });

  it("rejects the decimal string 1e999999 as out of range", async () => {
    const event = postJson(calculations, { operation: "add", operands: ["1e999999", 1] });
    expectProblem(await bundle.handler(event), 422, "operand-out-of-range", { pointer: "/operands/0" });
  });

  it("rejects an empty operand list where the operation needs operands", async () => {
    const problem = expectProblem(
      await bundle.handler(postJson(calculations, { operation: "mean", operands: [] })),
      400,
      "validation-failed",
      {
        pointer: "/operands",
      },
    );
    expect(problem.detail).toBe("mean takes at least 1 operand, but 0 were given.");
  });

  it("rejects more than 1000 operands", async () => {
    const event = postJson(calculations, { operation: "add", operands: Array(1001).fill(1) });
    expectProblem(await bundle.handler(event), 400, "validation-failed", { pointer: "/operands" });
  });

  it("rejects a body over 64 KiB with 413", async () => {
    const body = JSON.stringify({ operation: "add", operands: [1, 2], id: "x", padding: " ".repeat(64 * 1024) });
    expectProblem(await bundle.handler(postRaw(calculations, body)), 413, "payload-too-large");
  });

  it("rejects a power whose exponent would burn CPU", async () => {
    const event = postJson(calculations, { operation: "power", operands: ["1.0000000001", 99999999] });
    expectProblem(await bundle.handler(event), 422, "exponent-too-large", { pointer: "/operands/1" });
  });

  it.each([
    ["divide", [1, 0], "/operands/1"],
    ["modulo", [5, "0.000"], "/operands/1"],
  ])("rejects %s by zero with 422", async (operation, operands, pointer) => {
    expectProblem(await bundle.handler(postJson(calculations, { operation, operands })), 422, "division-by-zero", {
      pointer,
    });
  });

  it("rejects the square root of a negative number", async () => {
    const event = postJson(calculations, { operation: "sqrt", operands: [-2] });
    expectProblem(await bundle.handler(event), 422, "undefined-result", { pointer: "/operands/0" });
  });

  it.each([
    ["too long", "k".repeat(129)],
    ["with a space", "my key"],
    ["with a slash", "a/b"],
    ["starting with a dash", "-abc"],
    ["with non-ASCII letters", "clé"],
  ])("rejects a body id %s", async (_label, id) => {
    expectProblem(
      await bundle.handler(postJson(calculations, { operation: "add", operands: [1, 2], id })),
      400,
      "validation-failed",
      {
        pointer: "/id",
      },
    );
  });

  it("rejects an Idempotency-Key header with odd characters", async () => {
    const event = postJson(
      calculations,
      { operation: "add", operands: [1, 2] },
      { "idempotency-key": "key with spaces" },
    );
    expectProblem(await bundle.handler(event), 400, "validation-failed", { header: "idempotency-key" });
  });

  it("rejects a path id that is too long", async () => {
    expectProblem(await bundle.handler(get(`${calculations}/${"x".repeat(129)}`)), 400, "invalid-id", {
      parameter: "id",
    });
  });

  it("rejects a batch over 100 items", async () => {
    const items = Array.from({ length: 101 }, () => ({ operation: "add", operands: [1, 2] }));
    expectProblem(await bundle.handler(postJson(`${calculations}/batch`, { items })), 400, "validation-failed", {
      pointer: "/items",
    });
  });

  it.each([
    ["a JSON array", [1, 2], ""],
    ["an unknown field", { operation: "add", operands: [1, 2], operand: 3 }, "/operand"],
    ["a precision of 0", { operation: "add", operands: [1, 2], precision: 0 }, "/precision"],
    ["a precision of 39", { operation: "add", operands: [1, 2], precision: 39 }, "/precision"],
    ["a fractional precision", { operation: "add", operands: [1, 2], precision: 2.5 }, "/precision"],
    ["operands that are not a list", { operation: "add", operands: "1,2" }, "/operands"],
  ])("rejects %s", async (_label, body, pointer) => {
    expectProblem(await bundle.handler(postJson(calculations, body)), 400, "validation-failed", { pointer });
  });

  it("answers an idempotency key reused with another body with 409, keeping the first write", async () => {
    const headers = { "idempotency-key": "reused-key-1" };
    const first = await bundle.handler(postJson(calculations, { operation: "add", operands: [1, 2] }, headers));
    expect(first.statusCode).toBe(201);
    const problem = expectProblem(
      await bundle.handler(postJson(calculations, { operation: "add", operands: [1, 3] }, headers)),
      409,
      "idempotency-conflict",
      { header: "idempotency-key" },
    );
    expect(problem.detail).toContain("reused-key-1");
    const stored = bodyOf(await bundle.handler(get(`${calculations}/reused-key-1`)));
    expect(stored.result).toBe("3");
  });

  it("points a 409 at the body's id when the key came from there", async () => {
    await bundle.handler(postJson(calculations, { operation: "max", operands: [1, 2], id: "reused-key-2" }));
    const response = await bundle.handler(
      postJson(calculations, { operation: "max", operands: [1, 5], id: "reused-key-2" }),
    );
    expectProblem(response, 409, "idempotency-conflict", { pointer: "/id" });
  });

  it("writes nothing for any rejected request", async () => {
    const items = await database.scanItems();
    expect(items.map((item) => item.id).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual([
      { S: "reused-key-1" },
      { S: "reused-key-2" },
    ]);
  });
});
