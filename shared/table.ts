import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";

/**
 * The DynamoDB table contract shared by the function, the local cloud and the Pulumi program.
 *
 * Items are write-once calculations. The global table (and the local replicator) resolves a
 * conflicting concurrent write of the same id in two regions last-writer-wins on `createdAt`,
 * which the handler stamps (ISO-8601 UTC, always with milliseconds, so text order is time
 * order); equal stamps break on `region`, the higher name winning, so every replica converges
 * on the same item.
 */
export const TABLE = {
  partitionKey: "id",
  ttlAttribute: "expiresAt",
  ttlDays: 30,
  streamViewType: "NEW_AND_OLD_IMAGES",
  /** The item `/health` reads. `#` cannot start a calculation id, so it never collides. */
  sentinelId: "#health-sentinel",
} as const;

/** The attribute the global table orders concurrent writes by (last writer wins). */
export const WRITE_TIMESTAMP_ATTRIBUTE = "createdAt";

/**
 * A calculation as the store hands it over. In the table `operands` is a List of Numbers and
 * `result` a Number (38 significant digits fit); the store converts, so these stay exact strings.
 */
export interface CalculationItem {
  id: string;
  operation: string;
  operands: string[];
  precision?: number;
  result: string;
  /** The region that computed and first wrote the item. */
  region: string;
  /** ISO-8601 UTC with milliseconds, stamped by the handler; the last-writer-wins order. */
  createdAt: string;
  /** Epoch seconds; DynamoDB TTL deletes the item some time after. */
  expiresAt: number;
  /** SHA-256 of the canonical request, to tell an idempotent retry from a conflicting reuse. */
  requestHash: string;
}

export function expiresAtFor(nowMs: number, ttlDays: number = TABLE.ttlDays): number {
  return Math.floor(nowMs / 1000) + ttlDays * 24 * 60 * 60;
}

/** CreateTable input for a table that matches the contract (the local cloud and tests use it). */
export function createTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    AttributeDefinitions: [{ AttributeName: TABLE.partitionKey, AttributeType: "S" }],
    KeySchema: [{ AttributeName: TABLE.partitionKey, KeyType: "HASH" }],
    BillingMode: "PAY_PER_REQUEST",
    StreamSpecification: { StreamEnabled: true, StreamViewType: TABLE.streamViewType },
  };
}
