import { BatchGetCommand, BatchWriteCommand } from "@aws-sdk/lib-dynamodb";
import { afterEach, describe, expect, it } from "vitest";
import type { BatchResponse } from "../../shared/responses.js";
import type { CalculationItem } from "../../shared/table.js";
import { backoffDelay } from "../store.js";
import { bodyOf, postJson } from "./support/events.js";
import { MOCK_TABLE, mockedStore } from "./support/mocked-store.js";

function item(id: string): CalculationItem {
  return {
    id,
    operation: "add",
    operands: ["1", "2"],
    result: "3",
    region: "us-east-1",
    createdAt: "2026-11-22T00:00:00.000Z",
    expiresAt: 2,
    requestHash: "h",
  };
}

type PutRequests = { PutRequest: { Item: { id: string } } }[];

function idsIn(requests: PutRequests | undefined): string[] {
  return (requests ?? []).map((r) => r.PutRequest.Item.id);
}

function unprocessed(ids: string[]) {
  return { UnprocessedItems: { [MOCK_TABLE]: ids.map((id) => ({ PutRequest: { Item: { id } } })) } };
}

let fixture: ReturnType<typeof mockedStore>;
afterEach(() => fixture.mock.restore());

describe("batch write retries", () => {
  it("splits 60 items into chunks of 25, 25 and 10", async () => {
    fixture = mockedStore();
    fixture.mock.on(BatchWriteCommand).resolves({});
    const outcome = await fixture.store.putBatch(Array.from({ length: 60 }, (_, i) => item(`i${i}`)));
    const sizes = fixture.mock
      .commandCalls(BatchWriteCommand)
      .map((call) => idsIn(call.args[0].input.RequestItems?.[MOCK_TABLE] as PutRequests).length);
    expect(sizes).toEqual([25, 25, 10]);
    expect(outcome.written.size).toBe(60);
  });

  it("retries only the unprocessed items until DynamoDB takes them", async () => {
    fixture = mockedStore();
    fixture.mock
      .on(BatchWriteCommand)
      .resolvesOnce(unprocessed(["b", "c"]))
      .resolvesOnce(unprocessed(["c"]))
      .resolves({});
    const outcome = await fixture.store.putBatch(["a", "b", "c"].map(item));
    const calls = fixture.mock
      .commandCalls(BatchWriteCommand)
      .map((call) => idsIn(call.args[0].input.RequestItems?.[MOCK_TABLE] as PutRequests));
    expect(calls).toEqual([["a", "b", "c"], ["b", "c"], ["c"]]);
    expect([...outcome.written].sort()).toEqual(["a", "b", "c"]);
    expect(outcome.unacknowledged.size).toBe(0);
  });

  it("backs off exponentially with full jitter between attempts", async () => {
    fixture = mockedStore({ maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 60, budgetMs: 5000 });
    fixture.mock.on(BatchWriteCommand).resolves(unprocessed(["a"]));
    await fixture.store.putBatch([item("a")]);
    expect(fixture.delays).toHaveLength(4);
    fixture.delays.forEach((delay, index) => {
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(Math.min(60, 10 * 2 ** (index + 1)));
    });
    expect(backoffDelay(3, { maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 60 }, () => 0.999)).toBe(59);
    expect(backoffDelay(1, { maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 60 }, () => 0.5)).toBe(10);
  });

  it("never reports an item as written when DynamoDB kept leaving it unprocessed", async () => {
    fixture = mockedStore();
    fixture.mock.on(BatchWriteCommand).resolves(unprocessed(["b"]));
    const outcome = await fixture.store.putBatch(["a", "b"].map(item));
    expect(fixture.mock.commandCalls(BatchWriteCommand)).toHaveLength(4);
    expect([...outcome.written]).toEqual(["a"]);
    expect([...outcome.unacknowledged.keys()]).toEqual(["b"]);
  });

  it("gives up at the write budget even with attempts left, reporting the items unacknowledged", async () => {
    let now = 0;
    // Every call to the clock moves it 400 ms on: DynamoDB answering slowly, forever unprocessed.
    fixture = mockedStore({ maxAttempts: 10, baseDelayMs: 1, maxDelayMs: 2, budgetMs: 2000 }, () => (now += 400));
    fixture.mock.on(BatchWriteCommand).resolves(unprocessed(["a"]));
    const outcome = await fixture.store.putBatch([item("a")]);
    expect(fixture.mock.commandCalls(BatchWriteCommand).length).toBeLessThan(10);
    expect(outcome.unacknowledged.get("a")).toContain("2000 ms write budget");
  });

  it("retries after throttling and after a network error", async () => {
    fixture = mockedStore();
    const throttled = Object.assign(new Error("Rate exceeded"), {
      name: "ProvisionedThroughputExceededException",
      $fault: "client",
    });
    const reset = Object.assign(new Error("socket hang up"), { name: "Error", code: "ECONNRESET" });
    fixture.mock.on(BatchWriteCommand).rejectsOnce(throttled).rejectsOnce(reset).resolves({});
    const outcome = await fixture.store.putBatch(["a", "b"].map(item));
    expect(fixture.mock.commandCalls(BatchWriteCommand)).toHaveLength(3);
    expect(outcome.written.size).toBe(2);
  });

  it("stops at once on a validation error and reports every item unacknowledged with the reason", async () => {
    fixture = mockedStore();
    const invalid = Object.assign(new Error("Item size has exceeded the maximum allowed size"), {
      name: "ValidationException",
      $fault: "client",
    });
    fixture.mock.on(BatchWriteCommand).rejects(invalid);
    const outcome = await fixture.store.putBatch(["a", "b"].map(item));
    expect(fixture.mock.commandCalls(BatchWriteCommand)).toHaveLength(1);
    expect(outcome.unacknowledged.get("a")).toContain("ValidationException");
    expect(outcome.written.size).toBe(0);
  });

  it("answers 503 per item that was not acknowledged and 201 for the rest", async () => {
    fixture = mockedStore();
    fixture.mock.on(BatchGetCommand).resolves({ Responses: { [MOCK_TABLE]: [] } });
    fixture.mock.on(BatchWriteCommand).callsFake((input: { RequestItems: Record<string, PutRequests> }) => {
      const stuck = idsIn(input.RequestItems[MOCK_TABLE]).filter((id) => id === "stuck");
      return stuck.length > 0 ? unprocessed(stuck) : {};
    });
    const response = await fixture.app(
      postJson("/v1/calculations/batch", {
        items: [
          { operation: "add", operands: [1, 1], id: "fine" },
          { operation: "add", operands: [2, 2], id: "stuck" },
        ],
      }),
    );
    const body = bodyOf<BatchResponse>(response);
    expect(body.results.map((r) => r.status)).toEqual([201, 503]);
    expect(body.results[1]).toMatchObject({
      problem: { type: "urn:calcburst:problem:write-not-acknowledged", id: "stuck" },
    });
    expect(body).toMatchObject({ succeeded: 1, failed: 1 });
    expect(await fixture.metrics.registry.getSingleMetricAsString("calcburst_batch_items_total")).toContain(
      'calcburst_batch_items_total{outcome="unacknowledged"} 1',
    );
  });

  it("writes nothing and answers 503 when the id check cannot read the table", async () => {
    fixture = mockedStore();
    fixture.mock.on(BatchGetCommand).rejects(Object.assign(new Error("connect ECONNREFUSED"), { name: "Error" }));
    fixture.mock.on(BatchWriteCommand).resolves({});
    const response = await fixture.app(
      postJson("/v1/calculations/batch", { items: [{ operation: "add", operands: [1, 1], id: "x" }] }),
    );
    expect(response.statusCode).toBe(503);
    expect(bodyOf(response).type).toBe("urn:calcburst:problem:data-unavailable");
    expect(fixture.mock.commandCalls(BatchWriteCommand)).toHaveLength(0);
  });
});
