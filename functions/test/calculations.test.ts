import { PutItemCommand } from "@aws-sdk/client-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { localDynamoDbClient } from "../../local/dynamodb/tables.js";
import { buildHttpApiEvent } from "../../shared/payload-v2.js";
import { type CalculationResponse, calculationResponseSchema } from "../../shared/responses.js";
import { TABLE } from "../../shared/table.js";
import { type LoadedBundle, loadBundle } from "./support/bundle.js";
import { TEST_REGION, TEST_TABLE, useDynamoDbLocal } from "./support/dynamodb.js";
import { bodyOf, get, postJson } from "./support/events.js";

const database = useDynamoDbLocal();
let bundle: LoadedBundle;

beforeAll(() => {
  bundle = loadBundle({ TABLE_NAME: TEST_TABLE, AWS_REGION: TEST_REGION, DYNAMODB_ENDPOINT: database.endpoint });
});

async function storedItem(id: string) {
  const items = await database.scanItems();
  return items.find((item) => (item.id as { S: string }).S === id);
}

describe("calculations", () => {
  it("creates a calculation with 201, its location and the serving region", async () => {
    const before = Date.now();
    const response = await bundle.handler(postJson("/v1/calculations", { operation: "divide", operands: ["10", 4] }));
    const body = bodyOf<CalculationResponse>(response);
    expect(response.statusCode).toBe(201);
    expect(calculationResponseSchema.safeParse(body).success).toBe(true);
    expect(body).toMatchObject({
      operation: "divide",
      operands: ["10", "4"],
      result: "2.5",
      region: TEST_REGION,
      servedBy: TEST_REGION,
    });
    expect(body.durationMs).toBeGreaterThan(0);
    expect(Date.parse(body.createdAt)).toBeGreaterThanOrEqual(before - 1);
    expect(response.headers.location).toBe(`/v1/calculations/${body.id}`);
    expect(response.headers["x-calcburst-region"]).toBe(TEST_REGION);
  });

  it("stores the item as the table contract says: Numbers, region, creation time and a 30-day TTL", async () => {
    const headers = { "idempotency-key": "contract-check" };
    await bundle.handler(postJson("/v1/calculations", { operation: "divide", operands: [1, 3] }, headers));
    const item = (await storedItem("contract-check")) as Record<string, { S?: string; N?: string }>;
    expect(item).toMatchObject({
      result: { N: "0.33333333333333333333333333333333333333" },
      operands: { L: [{ N: "1" }, { N: "3" }] },
      region: { S: TEST_REGION },
      operation: { S: "divide" },
    });
    const createdAtMs = Date.parse(String(item.createdAt?.S));
    const expiresAt = Number(item[TABLE.ttlAttribute]?.N);
    expect(expiresAt).toBe(Math.floor(createdAtMs / 1000) + 30 * 24 * 3600);
  });

  it("reads a calculation back by id, exactly as created", async () => {
    const created = bodyOf<CalculationResponse>(
      await bundle.handler(postJson("/v1/calculations", { operation: "sqrt", operands: [2], id: "read-back" })),
    );
    const response = await bundle.handler(get("/v1/calculations/read-back"));
    const { durationMs: _a, ...createdFields } = created;
    const { durationMs: _b, ...readFields } = bodyOf<CalculationResponse>(response);
    expect(response.statusCode).toBe(200);
    expect(readFields).toEqual(createdFields);
  });

  it("replays a retry with the same key and body with 200 and the stored record", async () => {
    const headers = { "idempotency-key": "retry-me" };
    const request = { operation: "mean", operands: [1, 2, 4] };
    const first = bodyOf<CalculationResponse>(await bundle.handler(postJson("/v1/calculations", request, headers)));
    const retry = await bundle.handler(postJson("/v1/calculations", request, headers));
    expect(retry.statusCode).toBe(200);
    expect(retry.headers["idempotent-replayed"]).toBe("true");
    expect(bodyOf<CalculationResponse>(retry)).toMatchObject({
      id: "retry-me",
      createdAt: first.createdAt,
      result: first.result,
    });
  });

  it("treats numerically equal operands as the same body on retry", async () => {
    const headers = { "idempotency-key": "same-value" };
    await bundle.handler(postJson("/v1/calculations", { operation: "add", operands: [1.5, 2] }, headers));
    const retry = await bundle.handler(
      postJson("/v1/calculations", { operation: "add", operands: ["1.50", "2.0"] }, headers),
    );
    expect(retry.statusCode).toBe(200);
  });

  it("accepts the same id in the header and the body, and refuses different ones", async () => {
    const same = await bundle.handler(
      postJson("/v1/calculations", { operation: "abs", operands: [-1], id: "both" }, { "idempotency-key": "both" }),
    );
    expect(same.statusCode).toBe(201);
    const different = await bundle.handler(
      postJson("/v1/calculations", { operation: "abs", operands: [-1], id: "one" }, { "idempotency-key": "other" }),
    );
    expect(different.statusCode).toBe(400);
    expect(await storedItem("one")).toBeUndefined();
  });

  it("answers 404 for an unknown id", async () => {
    const response = await bundle.handler(get("/v1/calculations/never-written"));
    expect(response.statusCode).toBe(404);
    expect(bodyOf(response).type).toBe("urn:calcburst:problem:calculation-not-found");
  });

  it("treats an item past its TTL as gone, and lets its key be used again", async () => {
    const client = localDynamoDbClient(database.endpoint, TEST_REGION);
    await client.send(
      new PutItemCommand({
        TableName: TEST_TABLE,
        Item: {
          id: { S: "expired" },
          operation: { S: "add" },
          operands: { L: [{ N: "1" }, { N: "1" }] },
          result: { N: "2" },
          region: { S: "us-east-1" },
          createdAt: { S: "2020-01-01T00:00:00.000Z" },
          expiresAt: { N: "1580428800" },
          requestHash: { S: "old" },
        },
      }),
    );
    expect((await bundle.handler(get("/v1/calculations/expired"))).statusCode).toBe(404);
    const reuse = await bundle.handler(
      postJson("/v1/calculations", { operation: "add", operands: [2, 2], id: "expired" }),
    );
    expect(reuse.statusCode).toBe(201);
    expect(bodyOf(await bundle.handler(get("/v1/calculations/expired"))).result).toBe("4");
  });

  it("reads a base64-encoded JSON body", async () => {
    const event = buildHttpApiEvent({
      method: "POST",
      path: "/v1/calculations",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ operation: "max", operands: [1, 9] }),
    });
    event.body = Buffer.from(event.body ?? "").toString("base64");
    event.isBase64Encoded = true;
    const response = await bundle.handler(event);
    expect(response.statusCode).toBe(201);
    expect(bodyOf(response).result).toBe("9");
  });

  it.each([
    ["add", [1, 2], "3"],
    ["subtract", [1, 2], "-1"],
    ["multiply", ["1.5", 4], "6"],
    ["divide", [1, 8], "0.125"],
    ["power", [3, 4], "81"],
    ["modulo", [10, 4], "2"],
    ["sqrt", [16], "4"],
    ["abs", [-3], "3"],
    ["min", [4, 2, 8], "2"],
    ["max", [4, 2, 8], "8"],
    ["mean", [4, 2, 8, 2], "4"],
    ["median", [4, 2, 8, 2], "3"],
    ["stddev", [1, 3], "1"],
    ["stddev_sample", [1, 3], "1.4142135623730950488016887242096980786"],
  ])("serves %s end to end and stores its result", async (operation, operands, result) => {
    const id = `every-${operation}`;
    const created = await bundle.handler(postJson("/v1/calculations", { operation, operands, id }));
    expect(bodyOf(created).result).toBe(result);
    expect(bodyOf(await bundle.handler(get(`/v1/calculations/${id}`))).result).toBe(result);
  });
});
