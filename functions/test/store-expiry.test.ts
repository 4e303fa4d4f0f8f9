import { describe, expect, it } from "vitest";
import { getDocumentClient } from "../commons/clients.js";
import { createMetrics } from "../commons/metrics.js";
import { DynamoCalculationStore } from "../store.js";
import { TEST_REGION, TEST_TABLE, useDynamoDbLocal } from "./support/dynamodb.js";

// The store's idea of "expired" (a read answers 404) and its write condition (the key is free
// again) agree to the millisecond: there is no second in which an id is neither readable nor writable.

const database = useDynamoDbLocal();

const item = (id: string, expiresAt: number, requestHash: string) => ({
  id,
  operation: "add",
  operands: ["1", "2"],
  result: "3",
  region: TEST_REGION,
  createdAt: "2026-11-30T00:00:00.000Z",
  expiresAt,
  requestHash,
});

function storeAt(nowMs: number): DynamoCalculationStore {
  return new DynamoCalculationStore({
    tableName: TEST_TABLE,
    metrics: createMetrics(),
    connect: () => getDocumentClient({ region: TEST_REGION, endpoint: database.endpoint }),
    nowMs: () => nowMs,
  });
}

describe("an item at the second it expires", () => {
  it("is gone for reads and free for a new write in the same millisecond", async () => {
    // Prepare: an item that expires at second S, and a clock half-way through S.
    const second = 1_900_000_000;
    const store = storeAt(second * 1000 + 500);
    await storeAt(second * 1000 - 60_000).putIfAbsent(item("expiring-now", second, "old"));

    // Act
    const read = await store.get("expiring-now");
    const write = await store.putIfAbsent(item("expiring-now", second + 86_400, "new"));

    // Assess
    expect(read).toBeUndefined();
    expect(write).toEqual({ created: true });
    expect((await store.get("expiring-now"))?.requestHash).toBe("new");
  });

  it("still refuses a new body one millisecond before its expiry, and returns the stored item", async () => {
    // Prepare
    const second = 1_900_000_100;
    await storeAt(second * 1000 - 60_000).putIfAbsent(item("expiring-soon", second, "kept"));

    // Act
    const write = await storeAt(second * 1000 - 1).putIfAbsent(item("expiring-soon", second + 86_400, "other"));

    // Assess
    expect(write).toMatchObject({ created: false, existing: { requestHash: "kept", operands: ["1", "2"] } });
  });
});
