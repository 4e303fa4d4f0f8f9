import { beforeAll, describe, expect, it } from "vitest";
import { buildHttpApiEvent } from "../../shared/payload-v2.js";
import { type LoadedBundle, loadBundle } from "./support/bundle.js";
import { TEST_REGION, TEST_TABLE, useDynamoDbLocal } from "./support/dynamodb.js";
import { bodyOf, get, postJson } from "./support/events.js";

const database = useDynamoDbLocal();
let bundle: LoadedBundle;

beforeAll(() => {
  bundle = loadBundle({ TABLE_NAME: TEST_TABLE, AWS_REGION: TEST_REGION, DYNAMODB_ENDPOINT: database.endpoint });
});

describe("routing", () => {
  it("serves routes behind a named stage, whose name API Gateway puts in rawPath", async () => {
    const event = postJson("/prod/v1/calculations", { operation: "add", operands: [2, 2], id: "staged" });
    event.requestContext.stage = "prod";
    const response = await bundle.handler(event);
    expect(response.statusCode).toBe(201);
    const read = get("/prod/v1/calculations/staged");
    read.requestContext.stage = "prod";
    expect(bodyOf(await bundle.handler(read)).result).toBe("4");
  });

  it("finds headers whatever their case in a hand-built event", async () => {
    const event = buildHttpApiEvent({
      method: "POST",
      path: "/v1/calculations",
      body: JSON.stringify({ operation: "abs", operands: [-7] }),
    });
    event.headers = { "Content-Type": "application/json; charset=utf-8", "Idempotency-Key": "mixed-case" };
    const response = await bundle.handler(event);
    expect(response.statusCode).toBe(201);
    expect(bodyOf(response).id).toBe("mixed-case");
  });

  it("answers 404 for a trailing slash and for a nested path under an id", async () => {
    expect((await bundle.handler(get("/v1/calculations/"))).statusCode).toBe(404);
    expect((await bundle.handler(get("/v1/calculations/a/b"))).statusCode).toBe(404);
  });

  it("answers 405 with every allowed method for a method no route of the path serves", async () => {
    const batch = await bundle.handler(buildHttpApiEvent({ method: "PUT", path: "/v1/calculations/batch" }));
    const byId = await bundle.handler(postJson("/v1/calculations/some-id", {}));
    expect([batch.statusCode, batch.headers.allow]).toEqual([405, "GET, POST"]);
    expect([byId.statusCode, byId.headers.allow]).toEqual([405, "GET"]);
  });

  it("reads an item whose id is a route segment at its Location", async () => {
    const created = await bundle.handler(
      postJson("/v1/calculations", { operation: "abs", operands: [-7], id: "batch" }),
    );
    const location = created.headers.location ?? "";
    const read = await bundle.handler(get(location));
    expect([created.statusCode, location]).toEqual([201, "/v1/calculations/batch"]);
    expect([read.statusCode, bodyOf(read).result]).toEqual([200, "7"]);
  });

  it("decodes a percent-encoded id in the path", async () => {
    await bundle.handler(postJson("/v1/calculations", { operation: "abs", operands: [1], id: "with:colon" }));
    expect((await bundle.handler(get("/v1/calculations/with%3Acolon"))).statusCode).toBe(200);
  });
});
