import { describe, expect, it } from "vitest";
import { getDocumentClient } from "../commons/clients.js";
import { createMetrics } from "../commons/metrics.js";
import { DEFAULT_RETRY_POLICY, DynamoCalculationStore } from "../store.js";
import { TEST_REGION, TEST_TABLE, useDynamoDbLocal } from "./support/dynamodb.js";

const database = useDynamoDbLocal();

function storeWithBudget(budgetMs: number): DynamoCalculationStore {
  return new DynamoCalculationStore({
    tableName: TEST_TABLE,
    metrics: createMetrics(),
    connect: () => getDocumentClient({ region: TEST_REGION, endpoint: database.endpoint }),
    retry: { ...DEFAULT_RETRY_POLICY, budgetMs },
  });
}

const ITEM = {
  id: "frozen-table-write",
  operation: "add",
  operands: ["1", "2"],
  result: "3",
  region: TEST_REGION,
  createdAt: "2026-11-22T08:30:00.000Z",
  expiresAt: 4_000_000_000,
  requestHash: "0".repeat(64),
};

describe("the store's time budget against a frozen table", () => {
  it.each([
    ["a conditional put", (store: DynamoCalculationStore) => store.putIfAbsent(ITEM)],
    ["a read", (store: DynamoCalculationStore) => store.get("anything")],
    [
      "a batch of conditional puts",
      async (store: DynamoCalculationStore) => {
        const outcome = (await store.putEachIfAbsent([{ ...ITEM, id: "frozen-batch-write" }])).get(
          "frozen-batch-write",
        );
        if (outcome !== undefined && "unacknowledged" in outcome) {
          throw Object.assign(new Error(outcome.unacknowledged), { name: outcome.unacknowledged.split(":")[0] });
        }
        return outcome;
      },
    ],
  ])("gives up %s at the budget instead of running into the function timeout", async (_what, operation) => {
    // Prepare: a warm client, then DynamoDB Local stops answering (it keeps accepting connections).
    const store = storeWithBudget(300);
    await store.get("warm-up");
    process.kill(database.instance.pid, "SIGSTOP");

    // Act
    const outcome = operation(store).then(
      () => "answered",
      (error: Error) => error.name,
    );

    // Assess: aborted by the budget; the SDK's own timeouts alone would take seconds longer.
    try {
      expect(await outcome).toBe("AbortError");
    } finally {
      process.kill(database.instance.pid, "SIGCONT");
    }
  });
});
