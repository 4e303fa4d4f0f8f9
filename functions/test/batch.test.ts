import { beforeAll, describe, expect, it } from "vitest";
import { type BatchResponse, batchResponseSchema, type CalculationResponse } from "../../shared/responses.js";
import { type LoadedBundle, loadBundle } from "./support/bundle.js";
import { TEST_REGION, TEST_TABLE, useDynamoDbLocal } from "./support/dynamodb.js";
import { bodyOf, get, postJson } from "./support/events.js";

const database = useDynamoDbLocal();
let bundle: LoadedBundle;

beforeAll(() => {
  bundle = loadBundle({ TABLE_NAME: TEST_TABLE, AWS_REGION: TEST_REGION, DYNAMODB_ENDPOINT: database.endpoint });
});

const batch = (items: unknown[], headers: Record<string, string> = {}) =>
  bundle.handler(postJson("/v1/calculations/batch", { items }, headers));

describe("batch calculations", () => {
  it("writes 60 items, each with its own conditional put, and reports each in order", async () => {
    const items = Array.from({ length: 60 }, (_, i) => ({
      operation: "multiply",
      operands: [i, 2],
      id: `chunked-${i}`,
    }));
    const response = await batch(items);
    const body = bodyOf<BatchResponse>(response);
    expect(response.statusCode).toBe(200);
    expect(batchResponseSchema.safeParse(body).success).toBe(true);
    expect(body, JSON.stringify(body.results.find((r) => r.status !== 201))).toMatchObject({
      succeeded: 60,
      failed: 0,
      servedBy: TEST_REGION,
    });
    expect(body.results.map((r) => [r.index, r.status])).toEqual(items.map((_, i) => [i, 201]));
    const stored = await database.scanItems();
    expect(stored.filter((item) => (item.id as { S: string }).S.startsWith("chunked-"))).toHaveLength(60);
    expect(bodyOf<CalculationResponse>(await bundle.handler(get("/v1/calculations/chunked-59"))).result).toBe("118");
  });

  it("reports invalid items one by one and still writes the valid ones", async () => {
    const response = await batch([
      { operation: "add", operands: [1, 2], id: "mixed-ok" },
      { operation: "divide", operands: [1, 0], id: "mixed-zero" },
      { operation: "cube", operands: [2], id: "mixed-unknown" },
      { operation: "sqrt", operands: [9] },
    ]);
    const body = bodyOf<BatchResponse>(response);
    expect(batchResponseSchema.safeParse(body).success).toBe(true);
    expect(body.results.map((r) => r.status)).toEqual([201, 422, 400, 201]);
    expect(body).toMatchObject({ succeeded: 2, failed: 2 });
    expect(body.results[1]).toMatchObject({
      problem: { type: "urn:calcburst:problem:division-by-zero", errors: [{ pointer: "/items/1/operands/1" }] },
    });
    expect(body.results[2]).toMatchObject({ problem: { errors: [{ pointer: "/items/2/operation" }] } });
    const ids = (await database.scanItems()).map((item) => (item.id as { S: string }).S);
    expect(ids).toContain("mixed-ok");
    expect(ids).not.toContain("mixed-zero");
    expect(ids).not.toContain("mixed-unknown");
  });

  it("replays items whose id already holds the same request, and refuses a different one with 409", async () => {
    await bundle.handler(postJson("/v1/calculations", { operation: "add", operands: [5, 5], id: "prior" }));
    const body = bodyOf<BatchResponse>(
      await batch([
        { operation: "add", operands: [5, 5], id: "prior" },
        { operation: "add", operands: [5, 6], id: "prior" },
      ]),
    );
    expect(body.results.map((r) => r.status)).toEqual([200, 409]);
    expect(body.results[1]).toMatchObject({ problem: { errors: [{ pointer: "/items/1/id" }] } });
    expect(bodyOf(await bundle.handler(get("/v1/calculations/prior"))).result).toBe("10");
  });

  it("treats a repeated id inside one batch as one write, or a conflict when the bodies differ", async () => {
    const body = bodyOf<BatchResponse>(
      await batch([
        { operation: "min", operands: [3, 1], id: "twice" },
        { operation: "min", operands: [3, 1], id: "twice" },
        { operation: "min", operands: [3, 2], id: "twice" },
      ]),
    );
    expect(body.results.map((r) => r.status)).toEqual([201, 201, 409]);
    expect(bodyOf(await bundle.handler(get("/v1/calculations/twice"))).result).toBe("1");
  });

  it("refuses an Idempotency-Key header on a batch and writes nothing", async () => {
    const response = await batch([{ operation: "add", operands: [1, 1], id: "with-header" }], {
      "idempotency-key": "batch-key",
    });
    expect(response.statusCode).toBe(400);
    expect((await bundle.handler(get("/v1/calculations/with-header"))).statusCode).toBe(404);
  });

  it("refuses an empty batch", async () => {
    const response = await batch([]);
    expect(response.statusCode).toBe(400);
    expect(bodyOf(response).errors).toEqual([expect.objectContaining({ pointer: "/items" })]);
  });
});
