import type { AttributeValue, DeleteItemCommandInput, PutItemCommandInput } from "@aws-sdk/client-dynamodb";
import type { _Record as StreamRecord } from "@aws-sdk/client-dynamodb-streams";
import { REPLICATION_STAMP, TABLE } from "../../shared/table.js";
import { formatMicros, type Stamp, stampMicros, stampOf, type WireItem } from "../data/stamps.js";

/**
 * The conflict rule of the local global table, as DynamoDB's MREC global tables apply it: of two
 * versions of one item, the one applied later in its own region wins (last writer wins on the
 * applied time); equal times, which only two regions can produce, go to the higher region name,
 * so every replica picks the same winner. No attribute the application writes takes part.
 */

/** Whether `incoming` replaces `current` in a replica (`current` undefined: the replica has none). */
export function supersedes(incoming: Stamp, current: Stamp | undefined): boolean {
  if (current === undefined) return true;
  const [a, b] = [stampMicros(incoming.time), stampMicros(current.time)];
  return a > b || (a === b && incoming.region > current.region);
}

/** The same rule as a DynamoDB condition, so the check and the write are one atomic step. */
const REPLICATED_PUT_CONDITION =
  "attribute_not_exists(#stampTime) OR #stampTime < :time OR (#stampTime = :time AND #stampRegion < :region)";

const STAMP_NAMES = { "#stampTime": REPLICATION_STAMP.time, "#stampRegion": REPLICATION_STAMP.region };
const stampValues = (stamp: Stamp) => ({ ":time": { N: stamp.time }, ":region": { S: stamp.region } });

/** What the replicator does with one stream record for one target replica. */
export type ReplicationDecision =
  | { kind: "put"; image: Record<string, AttributeValue>; stamp: Stamp }
  | { kind: "delete"; key: Record<string, AttributeValue>; stamp: Stamp }
  | {
      kind: "skip";
      /**
       * sentinel: the health item, which each region keeps its own. echo: a write this region
       * received by replication. unstamped: written past the data endpoint, so it has no applied
       * time to be ordered by.
       */
      reason: "sentinel" | "echo" | "unstamped";
    };

export interface DecideOptions {
  source: string;
  /** Benchmark only: an unstamped write gets the time its stream record was created. */
  stampAtStream?: boolean;
}

/**
 * Decides what a change in `source` means for another replica. Writes that originated in the
 * source are put where they win by the rule above, expired or not: an expired item is gone for
 * the API wherever it is, and skipping it could leave an earlier live write standing in one
 * region only. A deletion (DynamoDB's TTL; the API deletes nothing) removes only the very
 * version that was deleted, so it never takes away a later write, and its echo finds nothing.
 */
export function decide(record: StreamRecord, options: DecideOptions): ReplicationDecision {
  if (record.eventName === "REMOVE") {
    const old = record.dynamodb?.OldImage as WireItem | undefined;
    if (old === undefined || old.id?.S === TABLE.sentinelId) return { kind: "skip", reason: "sentinel" };
    const stamp = stampOf(old);
    if (stamp === undefined) return { kind: "skip", reason: "unstamped" };
    return { kind: "delete", key: { id: { S: old.id?.S ?? "" } }, stamp };
  }
  const image = record.dynamodb?.NewImage as WireItem | undefined;
  if (image === undefined || image.id?.S === TABLE.sentinelId) return { kind: "skip", reason: "sentinel" };
  let stamp = stampOf(image);
  if (stamp === undefined) {
    const createdAt = record.dynamodb?.ApproximateCreationDateTime;
    if (!options.stampAtStream || createdAt === undefined) return { kind: "skip", reason: "unstamped" };
    stamp = { time: formatMicros(createdAt.getTime() * 1000), region: options.source };
  }
  if (stamp.region !== options.source) return { kind: "skip", reason: "echo" };
  const stamped = {
    ...image,
    [REPLICATION_STAMP.time]: { N: stamp.time },
    [REPLICATION_STAMP.region]: { S: stamp.region },
  };
  return { kind: "put", image: stamped as Record<string, AttributeValue>, stamp };
}

/** The conditional PutItem that applies a replicated write only where it wins. */
export function replicatedPut(
  tableName: string,
  decision: Extract<ReplicationDecision, { kind: "put" }>,
): PutItemCommandInput {
  return {
    TableName: tableName,
    Item: decision.image,
    ConditionExpression: REPLICATED_PUT_CONDITION,
    ExpressionAttributeNames: STAMP_NAMES,
    ExpressionAttributeValues: stampValues(decision.stamp),
  };
}

/** The conditional DeleteItem that removes only the version that was deleted in the source. */
export function replicatedDelete(
  tableName: string,
  decision: Extract<ReplicationDecision, { kind: "delete" }>,
): DeleteItemCommandInput {
  return {
    TableName: tableName,
    Key: decision.key,
    ConditionExpression: "#stampTime = :time AND #stampRegion = :region",
    ExpressionAttributeNames: STAMP_NAMES,
    ExpressionAttributeValues: stampValues(decision.stamp),
  };
}
