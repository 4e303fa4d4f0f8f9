import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
} from "@aws-sdk/client-dynamodb";
import type { _Record as StreamRecord } from "@aws-sdk/client-dynamodb-streams";
import { afterAll, beforeAll } from "vitest";
import { REPLICATION_STAMP, TABLE } from "../../../shared/table.js";
import { type DataEndpoint, startDataEndpoint } from "../../data/endpoint.js";
import { formatMicros, isTombstone, type Stamp, type WireItem } from "../../data/stamps.js";
import { type DynamoDbLocal, startDynamoDbLocal } from "../../dynamodb/launcher.js";
import { ensureCalculationsTable, localDynamoDbClient } from "../../dynamodb/tables.js";
import { CheckpointStore } from "../../replicator/checkpoints.js";
import { PairReplicator, ReplicationMetrics } from "../../replicator/replicator.js";

/** A region of the harness: its table in the shared DynamoDB Local, behind its own data endpoint. */
export interface HarnessRegion {
  region: string;
  tableName: string;
  endpoint: DataEndpoint;
}

export interface ReplicaHarness {
  database: DynamoDbLocal;
  regions: Record<string, HarnessRegion>;
  /** The function's write: a conditional put through the region's data endpoint; whether it was applied. */
  writeAsFunction(region: string, item: WireItem): Promise<boolean>;
  /** An unconditional put through the region's data endpoint, as a hand-made client may send. */
  overwrite(region: string, item: WireItem): Promise<void>;
  /** An item as stored, stamps included, read from DynamoDB Local itself. */
  raw(region: string, id: string): Promise<WireItem | undefined>;
  /** Every item of a region's table, stamps included (the health sentinel left out). */
  scan(region: string): Promise<Map<string, WireItem>>;
  /**
   * DynamoDB's TTL job on one item of a region: deletes it, past the endpoint, if it holds a
   * version past its expiry (a tombstone is not one), and returns that version: the old image of
   * the REMOVE record the deletion puts in the region's stream. Undefined when there is none.
   */
  sweep(region: string, id: string): Promise<WireItem | undefined>;
  /** Puts an item straight into a region's table, past its endpoint, exactly as given. */
  putRaw(region: string, item: WireItem): Promise<void>;
  /** The replicator of one direction, over these tables. */
  pair(source: string, target: string): PairReplicator;
}

/**
 * One DynamoDB Local with a calculations table per region and an in-process data endpoint per
 * region in front of it: the parts of the local global table, without the rest of the cloud.
 */
export function useReplicaHarness(regions: readonly string[]): ReplicaHarness {
  const harness = { regions: {} } as ReplicaHarness;
  const checkpoints = mkdtempSync(path.join(tmpdir(), "calcburst-checkpoints-"));
  const pairs: PairReplicator[] = [];
  beforeAll(async () => {
    const database = await startDynamoDbLocal();
    const client = localDynamoDbClient(database.endpoint, "us-east-1");
    harness.database = database;
    for (const region of regions) {
      const tableName = `replica-${region}`;
      await ensureCalculationsTable(database.endpoint, "us-east-1", tableName);
      harness.regions[region] = {
        region,
        tableName,
        endpoint: await startDataEndpoint({ region, upstream: database.endpoint, port: 0 }),
      };
    }
    const regionOf = (region: string) => {
      const found = harness.regions[region];
      if (found === undefined) throw new Error(`no region ${region} in the harness`);
      return found;
    };
    const viaEndpoint = new Map(
      regions.map((region) => [region, localDynamoDbClient(regionOf(region).endpoint.url, region, { maxAttempts: 1 })]),
    );
    harness.writeAsFunction = async (region, item) => {
      try {
        await viaEndpoint.get(region)?.send(
          new PutItemCommand({
            TableName: regionOf(region).tableName,
            Item: item as never,
            ConditionExpression: "attribute_not_exists(#id) OR #expiresAt <= :now",
            ExpressionAttributeNames: { "#id": "id", "#expiresAt": "expiresAt" },
            ExpressionAttributeValues: { ":now": { N: String(Math.floor(Date.now() / 1000)) } },
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    };
    harness.overwrite = async (region, item) => {
      await viaEndpoint
        .get(region)
        ?.send(new PutItemCommand({ TableName: regionOf(region).tableName, Item: item as never }));
    };
    harness.raw = async (region, id) => {
      const { Item } = await client.send(
        new GetItemCommand({ TableName: regionOf(region).tableName, Key: { id: { S: id } }, ConsistentRead: true }),
      );
      return Item as WireItem | undefined;
    };
    harness.scan = async (region) => {
      const items = new Map<string, WireItem>();
      let start: Record<string, never> | undefined;
      do {
        const page = await client.send(
          new ScanCommand({ TableName: regionOf(region).tableName, ConsistentRead: true, ExclusiveStartKey: start }),
        );
        for (const item of (page.Items ?? []) as unknown as WireItem[]) {
          const id = item.id?.S ?? "";
          if (!id.startsWith("#")) items.set(id, item);
        }
        start = page.LastEvaluatedKey as Record<string, never> | undefined;
      } while (start !== undefined);
      return items;
    };
    harness.sweep = async (region, id) => {
      const held = await harness.raw(region, id);
      const time = held?.[REPLICATION_STAMP.time]?.N;
      const expiresAt = held?.[TABLE.ttlAttribute]?.N;
      if (held === undefined || time === undefined || expiresAt === undefined || isTombstone(held)) return undefined;
      if (Number(expiresAt) * 1000 > Date.now()) return undefined;
      // The very version read, as DynamoDB Local's TTL job deletes what its scan found under one lock.
      await client.send(
        new DeleteItemCommand({
          TableName: regionOf(region).tableName,
          Key: { id: { S: id } },
          ConditionExpression: "#time = :time",
          ExpressionAttributeNames: { "#time": REPLICATION_STAMP.time },
          ExpressionAttributeValues: { ":time": { N: time } },
        }),
      );
      return held;
    };
    harness.putRaw = async (region, item) => {
      await client.send(new PutItemCommand({ TableName: regionOf(region).tableName, Item: item as never }));
    };
    harness.pair = (source, target) => {
      const replica = (region: string) => ({
        region,
        endpoint: database.endpoint,
        tableName: regionOf(region).tableName,
      });
      const pair = new PairReplicator({
        source: replica(source),
        target: replica(target),
        checkpoints: new CheckpointStore(path.join(checkpoints, `${source}-${target}-${pairs.length}.json`)),
        metrics: new ReplicationMetrics(),
        isPaused: () => false,
        pollIntervalMs: 20,
      });
      pairs.push(pair);
      return pair;
    };
  });
  afterAll(async () => {
    for (const pair of pairs) {
      pair.stop();
      pair.close();
    }
    for (const region of Object.values(harness.regions)) await region.endpoint.close();
    await harness.database?.stop();
    rmSync(checkpoints, { recursive: true, force: true });
  });
  return harness;
}

/** A calculation item on the wire, as the function writes it (before the endpoint stamps it). */
export function calculationItem(id: string, result: string, origin: string, expiresAt?: number): WireItem {
  return {
    id: { S: id },
    operation: { S: "add" },
    operands: { L: [{ N: result }] },
    result: { N: result },
    region: { S: origin },
    createdAt: { S: new Date().toISOString() },
    expiresAt: { N: String(expiresAt ?? Math.floor(Date.now() / 1000) + 86_400) },
    requestHash: { S: result },
  };
}

/** A stamp `seconds` into the epoch, applied in `region`. */
export const at = (seconds: number, region: string): Stamp => ({ time: formatMicros(seconds * 1_000_000), region });

/** `item` as a region's data endpoint stamps it. */
export const stamped = (item: WireItem, stamp: Stamp): WireItem => ({
  ...item,
  [REPLICATION_STAMP.time]: { N: stamp.time },
  [REPLICATION_STAMP.region]: { S: stamp.region },
});

/** The stream record of a write of `image`. */
export const put = (image: WireItem): StreamRecord => ({
  eventName: "INSERT",
  dynamodb: { Keys: { id: image.id as never }, NewImage: image as never },
});

/** The stream record of the deletion of `image` (a TTL sweep's REMOVE). */
export const removal = (image: WireItem): StreamRecord => ({
  eventName: "REMOVE",
  dynamodb: { Keys: { id: image.id as never }, OldImage: image as never },
});
