import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterEach, describe, expect, it } from "vitest";
import type { BatchResponse } from "../../shared/responses.js";
import type { CalculationItem } from "../../shared/table.js";
import { BATCH_PUT_CONCURRENCY, backoffDelay } from "../store.js";
import { bodyOf, postJson } from "./support/events.js";
import { mockedStore } from "./support/mocked-store.js";

// Faults DynamoDB Local cannot produce on demand (throttling, network errors, a slow answer), on
// the batch route's conditional puts. The races themselves run against real DynamoDB Local in
// batch.test.ts and against the local cloud in local/test/write-races.test.ts.

function item(id: string): CalculationItem {
  return {
    id,
    operation: "add",
    operands: ["1", "2"],
    result: "3",
    region: "us-east-1",
    createdAt: "2026-11-22T00:00:00.000Z",
    expiresAt: 4_000_000_000,
    requestHash: "h",
  };
}

const throttled = () =>
  Object.assign(new Error("Rate exceeded"), { name: "ProvisionedThroughputExceededException", $fault: "client" });
const reset = () => Object.assign(new Error("socket hang up"), { name: "Error", code: "ECONNRESET" });
const idOf = (input: { Item?: Record<string, unknown> }) => String(input.Item?.id);

let fixture: ReturnType<typeof mockedStore>;
afterEach(() => fixture.mock.restore());

describe("the batch route's conditional puts under DynamoDB faults", () => {
  it("writes every item with a condition that refuses a live item, never with BatchWriteItem", async () => {
    // Prepare
    fixture = mockedStore();
    fixture.mock.on(PutCommand).resolves({});

    // Act
    const outcomes = await fixture.store.putEachIfAbsent(Array.from({ length: 60 }, (_, i) => item(`i${i}`)));

    // Assess
    const calls = fixture.mock.commandCalls(PutCommand);
    expect(calls).toHaveLength(60);
    for (const call of calls) {
      expect(call.args[0].input).toMatchObject({
        ConditionExpression: "attribute_not_exists(#id) OR #expiresAt <= :now",
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      });
    }
    expect([...outcomes.values()].every((outcome) => outcome.created)).toBe(true);
    expect(fixture.mock.calls().length).toBe(60);
  });

  it(`keeps at most ${BATCH_PUT_CONCURRENCY} puts in flight`, async () => {
    // Prepare: every put waits until the test lets it go.
    fixture = mockedStore();
    let inFlight = 0;
    let most = 0;
    fixture.mock.on(PutCommand).callsFake(async () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight -= 1;
      return {};
    });

    // Act
    await fixture.store.putEachIfAbsent(Array.from({ length: 100 }, (_, i) => item(`c${i}`)));

    // Assess
    expect(most).toBe(BATCH_PUT_CONCURRENCY);
  });

  it("retries an item after throttling and after a network error, and the others are unaffected", async () => {
    // Prepare
    fixture = mockedStore();
    let attemptsOfB = 0;
    fixture.mock.on(PutCommand).callsFake(async (input: { Item?: Record<string, unknown> }) => {
      if (idOf(input) !== "b") return {};
      attemptsOfB += 1;
      if (attemptsOfB === 1) throw throttled();
      if (attemptsOfB === 2) throw reset();
      return {};
    });

    // Act
    const outcomes = await fixture.store.putEachIfAbsent(["a", "b"].map(item));

    // Assess
    expect(attemptsOfB).toBe(3);
    expect(outcomes.get("a")).toEqual({ created: true });
    expect(outcomes.get("b")).toEqual({ created: true });
    expect(fixture.delays).toHaveLength(2);
  });

  it("backs off exponentially with full jitter between attempts", async () => {
    // Prepare
    fixture = mockedStore({ maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 60, budgetMs: 5000 });
    fixture.mock.on(PutCommand).rejects(throttled());

    // Act
    await fixture.store.putEachIfAbsent([item("a")]);

    // Assess
    expect(fixture.mock.commandCalls(PutCommand)).toHaveLength(5);
    expect(fixture.delays).toHaveLength(4);
    fixture.delays.forEach((delay, index) => {
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(Math.min(60, 10 * 2 ** (index + 1)));
    });
    expect(backoffDelay(3, { maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 60 }, () => 0.999)).toBe(59);
    expect(backoffDelay(1, { maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 60 }, () => 0.5)).toBe(10);
  });

  it("gives up at the write budget even with attempts left, reporting the item unacknowledged", async () => {
    // Prepare: every look at the clock moves it 400 ms on: DynamoDB answering slowly, always throttled.
    let now = 0;
    fixture = mockedStore({ maxAttempts: 10, baseDelayMs: 1, maxDelayMs: 2, budgetMs: 2000 }, () => (now += 400));
    fixture.mock.on(PutCommand).rejects(throttled());

    // Act
    const outcomes = await fixture.store.putEachIfAbsent([item("a")]);

    // Assess
    expect(fixture.mock.commandCalls(PutCommand).length).toBeLessThan(10);
    expect(outcomes.get("a")).toMatchObject({ created: false, unacknowledged: expect.stringContaining("2000 ms") });
  });

  it("stops at once on a validation error and reports the item unacknowledged with the reason", async () => {
    // Prepare
    fixture = mockedStore();
    const invalid = Object.assign(new Error("Item size has exceeded the maximum allowed size"), {
      name: "ValidationException",
      $fault: "client",
    });
    fixture.mock.on(PutCommand).rejects(invalid);

    // Act
    const outcomes = await fixture.store.putEachIfAbsent(["a", "b"].map(item));

    // Assess
    expect(fixture.mock.commandCalls(PutCommand)).toHaveLength(2);
    expect(outcomes.get("a")).toMatchObject({ unacknowledged: expect.stringContaining("ValidationException") });
  });

  it("answers 503 per item that was not acknowledged, 201 for the rest, and counts them", async () => {
    // Prepare
    fixture = mockedStore();
    fixture.mock.on(PutCommand).callsFake(async (input: { Item?: Record<string, unknown> }) => {
      if (idOf(input) === "stuck") throw throttled();
      return {};
    });

    // Act
    const response = await fixture.app(
      postJson("/v1/calculations/batch", {
        items: [
          { operation: "add", operands: [1, 1], id: "fine" },
          { operation: "add", operands: [2, 2], id: "stuck" },
        ],
      }),
    );

    // Assess
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

  it("answers 503 for every item, and no 500, when DynamoDB cannot be reached at all", async () => {
    // Prepare
    fixture = mockedStore({ maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2, budgetMs: 5000 });
    fixture.mock.on(PutCommand).rejects(Object.assign(new Error("connect ECONNREFUSED"), { name: "Error" }));

    // Act
    const response = await fixture.app(
      postJson("/v1/calculations/batch", {
        items: [
          { operation: "add", operands: [1, 1], id: "x" },
          { operation: "add", operands: [1, 2], id: "y" },
        ],
      }),
    );

    // Assess
    expect(response.statusCode).toBe(200);
    const body = bodyOf<BatchResponse>(response);
    expect(body.results.map((r) => r.status)).toEqual([503, 503]);
    expect(body.results[0]).toMatchObject({ problem: { detail: expect.stringContaining("ECONNREFUSED") } });
  });
});
