import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterEach, describe, expect, it } from "vitest";
import { bodyOf, get, postJson } from "./support/events.js";
import { mockedStore } from "./support/mocked-store.js";

const networkError = () =>
  Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8000"), { name: "Error", code: "ECONNREFUSED" });
const throttled = () =>
  Object.assign(new Error("Throughput exceeds the current capacity"), {
    name: "ThrottlingException",
    $fault: "client",
  });

let fixture: ReturnType<typeof mockedStore>;
afterEach(() => fixture.mock.restore());

describe("faults the data layer and the integration can produce", () => {
  it.each([
    ["a network error", networkError],
    ["throttling", throttled],
  ])("answers 503 write-not-acknowledged with the id to retry on %s", async (_label, fault) => {
    fixture = mockedStore();
    fixture.mock.on(PutCommand).rejects(fault());
    const response = await fixture.app(
      postJson("/v1/calculations", { operation: "add", operands: [1, 2] }, { "idempotency-key": "retry-key" }),
    );
    expect(response.statusCode).toBe(503);
    expect(response.headers["retry-after"]).toBe("1");
    expect(bodyOf(response)).toMatchObject({ type: "urn:calcburst:problem:write-not-acknowledged", id: "retry-key" });
  });

  it("counts every failed DynamoDB call, retries included, in the call-duration histogram", async () => {
    fixture = mockedStore();
    fixture.mock.on(PutCommand).rejects(networkError());
    await fixture.app(postJson("/v1/calculations", { operation: "add", operands: [1, 2] }));
    const calls = fixture.mock.commandCalls(PutCommand).length;
    const text = await fixture.metrics.registry.getSingleMetricAsString("calcburst_dynamodb_call_duration_seconds");
    expect(calls).toBeGreaterThan(1);
    expect(text).toContain(
      `calcburst_dynamodb_call_duration_seconds_count{command="PutItem",outcome="error"} ${calls}`,
    );
  });

  it("answers 503 data-unavailable when a read fails", async () => {
    fixture = mockedStore();
    fixture.mock.on(GetCommand).rejects(networkError());
    const response = await fixture.app(get("/v1/calculations/some-id"));
    expect(response.statusCode).toBe(503);
    expect(bodyOf(response).type).toBe("urn:calcburst:problem:data-unavailable");
  });

  it("answers 500 and logs why when the event is not a payload-2.0 event", async () => {
    fixture = mockedStore();
    const restEvent = { httpMethod: "GET", path: "/health", headers: {}, requestContext: { requestId: "v1" } };
    const response = await fixture.app(restEvent as unknown as Parameters<typeof fixture.app>[0]);
    expect(response.statusCode).toBe(500);
    expect(bodyOf(response).type).toBe("urn:calcburst:problem:internal-error");
  });

  it("answers 500 with a problem, never a stack trace, when something unexpected breaks", async () => {
    fixture = mockedStore();
    fixture.mock.on(GetCommand).resolves({
      Item: { id: "broken", operation: "add", operands: ["1"], result: "not a number", expiresAt: 9_999_999_999 },
    });
    const response = await fixture.app(get("/v1/calculations/broken"));
    expect(response.statusCode).toBe(500);
    expect(response.headers["content-type"]).toBe("application/problem+json");
    expect(response.body).not.toContain("at ");
  });
});
