import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { OPERATIONS } from "../../shared/operations.js";
import { PROBLEM_TYPE_PREFIX } from "../../shared/problem.js";
import type { HttpResponse } from "../http.js";
import { type LoadedBundle, loadBundle } from "./support/bundle.js";
import { TEST_REGION, TEST_TABLE, useDynamoDbLocal } from "./support/dynamodb.js";
import { postRaw } from "./support/events.js";

const database = useDynamoDbLocal();
let bundle: LoadedBundle;

beforeAll(() => {
  bundle = loadBundle({ TABLE_NAME: TEST_TABLE, AWS_REGION: TEST_REGION, DYNAMODB_ENDPOINT: database.endpoint });
});

const operand = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.string({ maxLength: 12 }),
  fc.constantFrom("1e999999", "-0", "NaN", ".5", "1.", "0x10", "1e-131", "9".repeat(39), " 1", ""),
  fc.constant(null),
  fc.boolean(),
);

const calculationLike = fc.record(
  {
    operation: fc.oneof(fc.constantFrom(...OPERATIONS), fc.string({ maxLength: 10 })),
    operands: fc.oneof(fc.array(operand, { maxLength: 12 }), operand),
    precision: fc.oneof(fc.integer({ min: -5, max: 50 }), fc.double(), fc.string({ maxLength: 3 })),
    id: fc.oneof(fc.string({ maxLength: 140 }), fc.integer()),
  },
  { requiredKeys: [] },
);

function expectAnswered(response: HttpResponse): void {
  expect(response.statusCode).toBeLessThan(500);
  if (response.statusCode >= 400) {
    expect(response.headers["content-type"]).toBe("application/problem+json");
    const problem = JSON.parse(response.body) as { type: string; detail: string };
    expect(problem.type.startsWith(PROBLEM_TYPE_PREFIX)).toBe(true);
    expect(problem.detail.length).toBeGreaterThan(10);
  }
}

describe("arbitrary input", () => {
  it("answers any JSON body with a 2xx or a 4xx problem, never a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(calculationLike, fc.json()), async (body) => {
        const text = typeof body === "string" ? body : JSON.stringify(body);
        expectAnswered(await bundle.handler(postRaw("/v1/calculations", text)));
      }),
      { numRuns: 300 },
    );
  });

  it("answers any batch body with a 2xx or a 4xx problem, and a 2xx or 4xx for every item", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(calculationLike, fc.jsonValue()), { maxLength: 8 }), async (items) => {
        const response = await bundle.handler(postRaw("/v1/calculations/batch", JSON.stringify({ items })));
        expectAnswered(response);
        if (response.statusCode === 200) {
          const { results } = JSON.parse(response.body) as { results: { status: number }[] };
          expect(results).toHaveLength(items.length);
          for (const result of results) expect(result.status).toBeLessThan(500);
        }
      }),
      { numRuns: 100 },
    );
  });

  it("answers arbitrary text under any content type without a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 200 }),
        fc.constantFrom("application/json", "text/plain", "application/x-www-form-urlencoded"),
        async (text, contentType) => {
          const response = await bundle.handler(postRaw("/v1/calculations", text, { "content-type": contentType }));
          expectAnswered(response);
        },
      ),
      { numRuns: 200 },
    );
  });
});
