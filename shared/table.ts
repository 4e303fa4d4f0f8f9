import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";

/**
 * The DynamoDB table contract shared by the function, the local cloud and the Pulumi program.
 *
 * Items are write-once calculations, written only with a condition (no live item holds the id),
 * so within one region a write the API acknowledged is never replaced. Across regions the
 * global table (MREC) resolves two writes of one id last-writer-wins on the time each write was
 * *applied* in its region, which DynamoDB keeps out of sight; no attribute the application
 * writes (not `createdAt`) takes part. The local cloud gets the same rule from
 * REPLICATION_STAMP below.
 */
export const TABLE = {
  partitionKey: "id",
  ttlAttribute: "expiresAt",
  ttlDays: 30,
  streamViewType: "NEW_AND_OLD_IMAGES",
  /** The item `/health` reads. `#` cannot start a calculation id, so it never collides. */
  sentinelId: "#health-sentinel",
} as const;

/**
 * When and where a write was applied: the attributes the 2017 global tables added to every item
 * (`aws:rep:updatetime`, `aws:rep:updateregion`) and the 2019 version keeps hidden. In the local
 * cloud each region's data endpoint (local/data/) stamps them on every write as it passes and
 * strips them from what the function reads; the replicator resolves conflicts on them.
 */
export const REPLICATION_STAMP = {
  /** Epoch seconds with microseconds, as a Number: unique and increasing within one region. */
  time: "aws:rep:updatetime",
  /** The region whose endpoint applied the write; breaks a tie of equal times. */
  region: "aws:rep:updateregion",
} as const;

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
  /** The region that computed the item and wrote it first. */
  region: string;
  /** ISO-8601 UTC with milliseconds, when the handler computed it: information, not an order. */
  createdAt: string;
  /** Epoch seconds; DynamoDB TTL deletes the item some time after. */
  expiresAt: number;
  /** SHA-256 of the canonical request, to tell an idempotent retry from a conflicting reuse. */
  requestHash: string;
}

/**
 * The expiry of an item on a table without TTL (tableTtlDays 0, what MRSC needs): 9999-12-31,
 * so every rule that reads `expiresAt` (a live item, a free key) holds unchanged.
 */
export const NEVER_EXPIRES = 253_402_300_799;

export function expiresAtFor(nowMs: number, ttlDays: number = TABLE.ttlDays): number {
  if (ttlDays === 0) return NEVER_EXPIRES;
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
