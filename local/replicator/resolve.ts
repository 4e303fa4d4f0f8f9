import type { AttributeValue, PutItemCommandInput } from "@aws-sdk/client-dynamodb";
import type { _Record as StreamRecord } from "@aws-sdk/client-dynamodb-streams";
import { REPLICATION_STAMP, TABLE } from "../../shared/table.js";
import {
  formatMicros,
  isTombstone,
  type Stamp,
  stampMicros,
  stampOf,
  TOMBSTONE,
  type WireItem,
} from "../data/stamps.js";
import { tombstoneItem } from "./tombstones.js";

/**
 * The conflict rule of the local global table, as DynamoDB's MREC global tables apply it: of two
 * versions of one item, the one applied later in its own region wins (last writer wins on the
 * applied time); equal times, which only two regions can produce, go to the higher region name,
 * so every replica picks the same winner. No attribute the application writes takes part.
 *
 * A deletion takes part too, as on AWS, where a deletion leaves a tombstone that conflict
 * resolution remembers: a replica that deletes a version keeps a tombstone with that version's
 * stamp (tombstones.ts), so a write applied before the deleted version, arriving later, loses to
 * the deletion instead of bringing the item back. The deletion counts at the deleted version's
 * stamp (which is how the replicator knows it; DynamoDB Local's TTL deletes carry no time of
 * their own), just after that version: it removes that version and anything older, never a later
 * write.
 */

/** Whether a write stamped `incoming` replaces `current` in a replica (`current` undefined: the replica has none). */
export function supersedes(incoming: Stamp, current: Stamp | undefined): boolean {
  if (current === undefined) return true;
  const [a, b] = [stampMicros(incoming.time), stampMicros(current.time)];
  return a > b || (a === b && incoming.region > current.region);
}

/**
 * Whether the deletion of the version stamped `deleted` takes what a replica holds: nothing, an
 * older version or tombstone, or that very version (not its tombstone, which is there already).
 */
export function deletionSupersedes(deleted: Stamp, current: { stamp: Stamp; tombstone: boolean } | undefined): boolean {
  if (current === undefined || supersedes(deleted, current.stamp)) return true;
  const same = stampMicros(deleted.time) === stampMicros(current.stamp.time) && deleted.region === current.stamp.region;
  return same && !current.tombstone;
}

/**
 * The same rules as DynamoDB conditions, so the check and the write are one atomic step: two
 * replication pairs writing one item of one replica at the same moment (a write from one region,
 * a deletion from another) are ordered by DynamoDB, and the second to land is checked against the
 * first. A tombstone is an item of the table for this reason, and not a record kept elsewhere.
 */
const REPLICATED_PUT_CONDITION =
  "attribute_not_exists(#stampTime) OR #stampTime < :time OR (#stampTime = :time AND #stampRegion < :region)";
const TOMBSTONE_CONDITION = `${REPLICATED_PUT_CONDITION} OR (#stampTime = :time AND #stampRegion = :region AND attribute_not_exists(#tombstone))`;

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
       * time to be ordered by. tombstone: a tombstone written or removed, which each replica
       * keeps for itself (the deletion it stands for replicates from its REMOVE record).
       */
      reason: "sentinel" | "echo" | "unstamped" | "tombstone";
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
 * region only. A deletion (DynamoDB's TTL, or a DeleteItem by hand; the API deletes nothing),
 * whichever region the deleted version came from, leaves a tombstone of that version where it
 * wins by the rule above, in the target and in the source itself, whose TTL left none; its echo
 * finds the tombstone there already.
 */
export function decide(record: StreamRecord, options: DecideOptions): ReplicationDecision {
  if (record.eventName === "REMOVE") {
    const old = record.dynamodb?.OldImage as WireItem | undefined;
    if (old === undefined || old.id?.S === TABLE.sentinelId) return { kind: "skip", reason: "sentinel" };
    if (isTombstone(old)) return { kind: "skip", reason: "tombstone" };
    const stamp = stampOf(old);
    if (stamp === undefined) return { kind: "skip", reason: "unstamped" };
    return { kind: "delete", key: { id: { S: old.id?.S ?? "" } }, stamp };
  }
  const image = record.dynamodb?.NewImage as WireItem | undefined;
  if (image === undefined || image.id?.S === TABLE.sentinelId) return { kind: "skip", reason: "sentinel" };
  if (isTombstone(image)) return { kind: "skip", reason: "tombstone" };
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

/**
 * The conditional PutItem that applies a deletion to a replica (the target, or the source whose
 * TTL deleted the version): the tombstone of the deleted version replaces that version or any
 * older one, or stands where there is none, and leaves a later write alone.
 */
export function replicatedDelete(
  tableName: string,
  decision: Extract<ReplicationDecision, { kind: "delete" }>,
): PutItemCommandInput {
  return {
    TableName: tableName,
    Item: tombstoneItem(decision.key, decision.stamp),
    ConditionExpression: TOMBSTONE_CONDITION,
    ExpressionAttributeNames: { ...STAMP_NAMES, "#tombstone": TOMBSTONE },
    ExpressionAttributeValues: stampValues(decision.stamp),
  };
}
