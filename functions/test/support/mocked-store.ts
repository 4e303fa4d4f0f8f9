import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import * as lib from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { createApp } from "../../app.js";
import { createLogger } from "../../commons/logger.js";
import { createMetrics } from "../../commons/metrics.js";
import { createHealthCheck } from "../../health.js";
import { DynamoCalculationStore, type RetryPolicy } from "../../store.js";

export const MOCK_TABLE = "calculations-mocked";
export const MOCK_REGION = "us-east-1";

/**
 * The real store and app over a document client whose calls are mocked. Only for faults that
 * DynamoDB Local cannot produce on demand: throttling, unprocessed items, network errors.
 */
export function mockedStore(
  retry: RetryPolicy = { maxAttempts: 4, baseDelayMs: 8, maxDelayMs: 40, budgetMs: 5000 },
  nowMs: () => number = Date.now,
) {
  const client = lib.DynamoDBDocumentClient.from(
    new DynamoDBClient({ region: MOCK_REGION, credentials: { accessKeyId: "test", secretAccessKey: "test" } }),
  );
  const mock = mockClient(lib.DynamoDBDocumentClient);
  const delays: number[] = [];
  const metrics = createMetrics();
  const store = new DynamoCalculationStore({
    tableName: MOCK_TABLE,
    metrics,
    connect: async () => ({ client, lib }),
    retry,
    nowMs,
    sleep: async (ms) => {
      delays.push(ms);
    },
  });
  const app = createApp({
    region: MOCK_REGION,
    store,
    metrics,
    logger: createLogger({ level: "silent", base: {} }),
    healthCheck: createHealthCheck({ store, isRegionDisabled: () => false }),
  });
  return { mock, store, app, delays, metrics };
}
