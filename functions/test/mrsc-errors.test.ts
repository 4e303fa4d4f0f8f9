import { InternalServerError, ReplicatedWriteConflictException } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterEach, describe, expect, it } from "vitest";
import { bodyOf, get, postJson } from "./support/events.js";
import { mockedStore } from "./support/mocked-store.js";

// The SDK's own exception classes, as it raises them from an MRSC table's answers.
const replicatedConflict = () =>
  new ReplicatedWriteConflictException({
    message:
      "The request was rejected because one or more items in the request are being modified by a request in another Region.",
    $metadata: { httpStatusCode: 400 },
  });
const majorityUnreachable = () =>
  new InternalServerError({
    message: "us-east-1 cannot reach a majority of the table's replicas",
    $metadata: { httpStatusCode: 500 },
  });

let fixture: ReturnType<typeof mockedStore>;
afterEach(() => fixture.mock.restore());

describe("the answers to an MRSC table's errors", () => {
  it("answers 409 replicated-write-conflict with Retry-After when another region writes the same key", async () => {
    fixture = mockedStore();
    fixture.mock.on(PutCommand).rejects(replicatedConflict());

    const response = await fixture.app(
      postJson("/v1/calculations", { operation: "add", operands: [1, 2] }, { "idempotency-key": "contested" }),
    );

    expect(response.statusCode).toBe(409);
    expect(response.headers["content-type"]).toBe("application/problem+json");
    expect(response.headers["retry-after"]).toBe("1");
    expect(bodyOf(response)).toMatchObject({
      type: "urn:calcburst:problem:replicated-write-conflict",
      id: "contested",
    });
    expect(fixture.mock.commandCalls(PutCommand)).toHaveLength(1);
  });

  it("answers a batch item 409 replicated-write-conflict and writes the others", async () => {
    fixture = mockedStore();
    fixture.mock.on(PutCommand).callsFake((input: { Item: { id: string } }) => {
      if (input.Item.id === "contested") throw replicatedConflict();
      return {};
    });

    const response = await fixture.app(
      postJson("/v1/calculations/batch", {
        items: [
          { id: "contested", operation: "add", operands: [1, 2] },
          { id: "free", operation: "add", operands: [3, 4] },
        ],
      }),
    );

    const results = bodyOf(response).results as { status: number; problem?: { type: string } }[];
    expect(results.map((result) => result.status)).toEqual([409, 201]);
    expect(results[0]?.problem?.type).toBe("urn:calcburst:problem:replicated-write-conflict");
  });

  it("answers 503 write-not-acknowledged with Retry-After when the region cannot reach the majority", async () => {
    fixture = mockedStore();
    fixture.mock.on(PutCommand).rejects(majorityUnreachable());

    const response = await fixture.app(postJson("/v1/calculations", { operation: "add", operands: [1, 2] }));

    expect(response.statusCode).toBe(503);
    expect(response.headers["retry-after"]).toBe("1");
    expect(bodyOf(response).type).toBe("urn:calcburst:problem:write-not-acknowledged");
  });

  it("fails /health when a strongly consistent read of the sentinel cannot reach the majority", async () => {
    fixture = mockedStore();
    fixture.mock.on(GetCommand).rejects(majorityUnreachable());

    const response = await fixture.app(get("/health"));

    expect(response.statusCode).toBe(503);
    expect(fixture.mock.commandCalls(GetCommand)[0]?.args[0].input).toMatchObject({ ConsistentRead: true });
  });
});
