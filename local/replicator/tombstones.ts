import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  ScanCommand,
} from "@aws-sdk/client-dynamodb";
import { REPLICATION_STAMP, TABLE } from "../../shared/table.js";
import { type Stamp, stampMicros, stampOf, TOMBSTONE, type WireItem } from "../data/stamps.js";

/**
 * Tombstones: what a replica of the local global table keeps in place of a deleted version, so
 * that a write applied before that version, arriving later, loses to the deletion (resolve.ts).
 *
 * A tombstone is an item of the replica's own table: its key, the deleted version's stamp, the
 * marker TOMBSTONE, and `expiresAt` 0. Being in the same table is what keeps the conflict rule
 * one atomic step: every write of the item, whoever sends it (a replication pair, a region's
 * data endpoint), is a conditional write on that one item, checked against the tombstone's stamp
 * by DynamoDB itself. Kept elsewhere (a side table, the replicator's own state), the check and the
 * write would be two steps, and a write landing between them could win against a later deletion.
 *
 * To the table contract (shared/table.ts) a tombstone is an item that expired long ago: the
 * function's reads call it absent and its conditional put takes its key, as for any expired item,
 * and the data endpoint hides it from every answer besides. DynamoDB's TTL (AWS's, and DynamoDB
 * Local's, whose job scans `expiresAt BETWEEN now - 5 years AND now`) never deletes an item more
 * than five years past its expiry, so the sweeper leaves tombstones alone; the replicator removes
 * them (TombstoneKeeper).
 */

/** The tombstone of the version stamped `stamp` of the item `key`. */
export function tombstoneItem(key: Record<string, AttributeValue>, stamp: Stamp): Record<string, AttributeValue> {
  return {
    ...key,
    [TABLE.ttlAttribute]: { N: "0" },
    [REPLICATION_STAMP.time]: { N: stamp.time },
    [REPLICATION_STAMP.region]: { S: stamp.region },
    [TOMBSTONE]: { BOOL: true },
  };
}

/**
 * How long after the deleted version's applied time a tombstone is kept, at least: well beyond
 * how long a write can take from its stamp to DynamoDB's stream (a request to a slow or frozen
 * DynamoDB Local, the stream's own delay of about 0.5 s) and any skew between the regions' clocks.
 */
export const TOMBSTONE_RETENTION_MS = 5 * 60_000;
/** How often the replicator looks for tombstones it can remove. */
export const TOMBSTONE_SWEEP_MS = 10_000;

const NAMES = {
  "#tombstone": TOMBSTONE,
  "#stampTime": REPLICATION_STAMP.time,
  "#stampRegion": REPLICATION_STAMP.region,
};

/**
 * The tombstones of one replica: those the replicator wrote since it started, and those a scan
 * found in the table at its first sweep (left by a previous run). A tombstone is removed once no
 * write it must hold back can still arrive: when every replication pair into the replica has
 * caught up with its source's stream at a poll that began at least TOMBSTONE_RETENTION_MS after
 * the deleted version's applied time. A write it holds back carries an earlier stamp than that
 * version, and a region stamps a write no earlier than the time it sends it (every region reads
 * one machine's clock), so the write was in its region's stream well before that poll, which has
 * delivered it: it lost to the version or to the tombstone. The removal is conditional on the very
 * tombstone, so a write that replaced it in the meantime stays.
 */
export class ReplicaTombstones {
  /** Tombstones by item id, with their stamps. */
  private readonly held = new Map<string, Stamp>();
  private found = false;
  private removedCount = 0;

  constructor(
    readonly region: string,
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  get size(): number {
    return this.held.size;
  }

  get removed(): number {
    return this.removedCount;
  }

  /** A tombstone written into this replica. */
  note(id: string, stamp: Stamp): void {
    const current = this.held.get(id);
    if (current === undefined || stampMicros(stamp.time) >= stampMicros(current.time)) this.held.set(id, stamp);
  }

  /** Once: the tombstones the table holds already (a previous run's). */
  async findExisting(): Promise<void> {
    if (this.found) return;
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          ConsistentRead: true,
          FilterExpression: "attribute_exists(#tombstone)",
          ProjectionExpression: "#id, #stampTime, #stampRegion",
          ExpressionAttributeNames: { ...NAMES, "#id": TABLE.partitionKey },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of (page.Items ?? []) as unknown as WireItem[]) {
        const stamp = stampOf(item);
        const id = item.id?.S;
        if (id !== undefined && stamp !== undefined) this.note(id, stamp);
      }
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    this.found = true;
  }

  /** Removes the tombstones of versions applied before `horizonMicros`; how many it removed. */
  async removeBefore(horizonMicros: bigint): Promise<number> {
    await this.findExisting();
    let removed = 0;
    for (const [id, stamp] of [...this.held]) {
      if (stampMicros(stamp.time) >= horizonMicros) continue;
      try {
        await this.client.send(
          new DeleteItemCommand({
            TableName: this.tableName,
            Key: { [TABLE.partitionKey]: { S: id } },
            ConditionExpression: "attribute_exists(#tombstone) AND #stampTime = :time AND #stampRegion = :region",
            ExpressionAttributeNames: NAMES,
            ExpressionAttributeValues: { ":time": { N: stamp.time }, ":region": { S: stamp.region } },
          }),
        );
        removed += 1;
      } catch (error) {
        // A write (or a later deletion's tombstone) replaced it: nothing of this one is left to remove.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
      if (this.held.get(id) === stamp) this.held.delete(id);
    }
    this.removedCount += removed;
    return removed;
  }
}
