import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  BatchGetItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TransactGetItemsCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDocumentClient } from "../../functions/commons/clients.js";
import { createMetrics } from "../../functions/commons/metrics.js";
import { DynamoCalculationStore } from "../../functions/store.js";
import { TABLE } from "../../shared/table.js";
import { formatMicros, isTombstone, type Stamp, stampMicros, stampOf, type WireItem } from "../data/stamps.js";
import { localDynamoDbClient } from "../dynamodb/tables.js";
import { CheckpointStore } from "../replicator/checkpoints.js";
import { type ReplicationStatus, Replicator } from "../replicator/replicator.js";
import { ReplicaTombstones, tombstoneItem } from "../replicator/tombstones.js";
import { eventually } from "./support/cloud.js";
import { at, calculationItem, put, stamped, useReplicaHarness } from "./support/replicas.js";

// The tombstones a deletion leaves in each replica of the local global table, against a real
// DynamoDB Local: invisible through the data endpoint and to the function's store, left alone by
// DynamoDB Local's own TTL job (which deletes in each region on its own), written by the
// replicator for a region's own sweep and for the other region's, and removed by it once
// replication into the region has caught up past the retention, never while a region is isolated.

const [A, B] = ["us-east-1", "eu-west-1"] as const;
const harness = useReplicaHarness([A, B]);
const checkpoints = mkdtempSync(path.join(tmpdir(), "calcburst-tombstones-"));
let viaEndpoint: DynamoDBClient;
let tableA: string;

beforeAll(() => {
  tableA = harness.regions[A]?.tableName ?? "";
  viaEndpoint = localDynamoDbClient(harness.regions[A]?.endpoint.url ?? "", A, { maxAttempts: 1 });
});
afterAll(() => {
  viaEndpoint?.destroy();
  rmSync(checkpoints, { recursive: true, force: true });
});

const nowSeconds = () => Math.floor(Date.now() / 1000);
const tombstone = (id: string, stamp: Stamp) => tombstoneItem({ id: { S: id } }, stamp) as unknown as WireItem;
const leaks = (value: unknown) => /aws:rep:/.test(JSON.stringify(value));

function startReplicator(options: { isolated?: string[]; tombstoneRetentionMs: number }): Replicator {
  const replica = (region: string) => ({
    region,
    endpoint: harness.database.endpoint,
    tableName: harness.regions[region]?.tableName ?? "",
  });
  const replicator = new Replicator({
    replicas: [replica(A), replica(B)],
    checkpoints: new CheckpointStore(path.join(checkpoints, `${Date.now()}.json`)),
    pollIntervalMs: 50,
    tombstoneSweepMs: 100,
    ...options,
  });
  replicator.start();
  return replicator;
}

const tombstonesIn = (status: ReplicationStatus, region: string) =>
  status.tombstones.find((one) => one.region === region);

describe("a tombstone, to the clients of a region's data endpoint", () => {
  it("is absent from every read: item reads, projected or not, batches, transactions, scans and queries", async () => {
    // Prepare: a tombstone and a live item side by side in A.
    const live = stamped(calculationItem("hidden-live", "1", A), at(nowSeconds(), A));
    await harness.putRaw(A, tombstone("hidden-tombstone", at(nowSeconds(), B)));
    await harness.putRaw(A, live);
    const key = (id: string) => ({ id: { S: id } });
    const both = [key("hidden-tombstone"), key("hidden-live")];

    // Act
    const got = await viaEndpoint.send(new GetItemCommand({ TableName: tableA, Key: key("hidden-tombstone") }));
    const projected = await viaEndpoint.send(
      new GetItemCommand({ TableName: tableA, Key: key("hidden-tombstone"), ProjectionExpression: "id" }),
    );
    const legacy = await viaEndpoint.send(
      new GetItemCommand({ TableName: tableA, Key: key("hidden-tombstone"), AttributesToGet: ["id"] }),
    );
    const batch = await viaEndpoint.send(
      new BatchGetItemCommand({
        RequestItems: {
          [tableA]: { Keys: both, ProjectionExpression: "id, #r", ExpressionAttributeNames: { "#r": "result" } },
        },
      }),
    );
    const transaction = await viaEndpoint.send(
      new TransactGetItemsCommand({ TransactItems: both.map((Key) => ({ Get: { TableName: tableA, Key } })) }),
    );
    const scan = await viaEndpoint.send(
      new ScanCommand({
        TableName: tableA,
        FilterExpression: "begins_with(id, :hidden)",
        ExpressionAttributeValues: { ":hidden": { S: "hidden-" } },
      }),
    );
    const counted = await viaEndpoint.send(
      new ScanCommand({ TableName: tableA, Select: "COUNT", ConsistentRead: true }),
    );
    const everything = await harness.scan(A);
    const query = await viaEndpoint.send(
      new QueryCommand({
        TableName: tableA,
        KeyConditionExpression: "id = :id",
        ExpressionAttributeValues: { ":id": { S: "hidden-tombstone" } },
      }),
    );

    // Assess
    expect([got.Item, projected.Item, legacy.Item]).toEqual([undefined, undefined, undefined]);
    expect(batch.Responses?.[tableA]).toEqual([{ id: { S: "hidden-live" }, result: { N: "1" } }]);
    expect(transaction.Responses?.map((response) => response.Item?.id?.S)).toEqual([undefined, "hidden-live"]);
    expect([scan.Count, scan.Items?.map((item) => item.id?.S)]).toEqual([1, ["hidden-live"]]);
    // The raw table holds the sentinel too, which is no tombstone and counts.
    const tombstones = [...everything.values()].filter((item) => isTombstone(item)).length;
    expect(counted.Count).toBe(everything.size + 1 - tombstones);
    expect(tombstones).toBeGreaterThan(0);
    expect([query.Count, query.Items]).toEqual([0, []]);
    expect(leaks([batch, transaction, scan])).toBe(false);
  });

  it("is absent from the old image a write returns, and an update of it leaves an item, no tombstone", async () => {
    // Prepare
    await harness.putRaw(A, tombstone("overwritten-tombstone", at(nowSeconds(), B)));
    await harness.putRaw(A, tombstone("updated-tombstone", at(nowSeconds(), B)));

    // Act
    const overwritten = await viaEndpoint.send(
      new PutItemCommand({
        TableName: tableA,
        Item: calculationItem("overwritten-tombstone", "2", A) as never,
        ReturnValues: "ALL_OLD",
      }),
    );
    const updated = await viaEndpoint.send(
      new UpdateItemCommand({
        TableName: tableA,
        Key: { id: { S: "updated-tombstone" } },
        UpdateExpression: "SET #result = :result",
        ExpressionAttributeNames: { "#result": "result" },
        ExpressionAttributeValues: { ":result": { N: "3" } },
        ReturnValues: "ALL_NEW",
      }),
    );

    // Assess: the update made the tombstone an expired item with a result, as any expired item.
    expect(overwritten.Attributes).toBeUndefined();
    expect(updated.Attributes).toEqual({ id: { S: "updated-tombstone" }, expiresAt: { N: "0" }, result: { N: "3" } });
    expect(isTombstone(await harness.raw(A, "updated-tombstone"))).toBe(false);
    expect(stampOf(await harness.raw(A, "updated-tombstone"))?.region).toBe(A);
  });

  it("refuses a scan with a legacy filter, which could not carry the filter that leaves tombstones out", async () => {
    // Act
    const refused = await viaEndpoint
      .send(
        new ScanCommand({
          TableName: tableA,
          ScanFilter: { id: { ComparisonOperator: "NOT_NULL" } },
        }),
      )
      .catch((error: Error) => error);

    // Assess
    expect(refused).toMatchObject({ name: "ValidationException", message: expect.stringMatching(/ScanFilter/) });
  });
});

describe("a tombstone, to the function's store", () => {
  it("reads as absent, and its key is free for the function's conditional put", async () => {
    // Prepare: the function's store, talking to A's data endpoint; a tombstone stamped a minute
    // ahead of A's clock, as one from a region whose clock runs ahead may be.
    const store = new DynamoCalculationStore({
      tableName: tableA,
      metrics: createMetrics(),
      connect: () => getDocumentClient({ region: A, endpoint: harness.regions[A]?.endpoint.url }),
    });
    await harness.putRaw(A, tombstone("store-tombstone", at(nowSeconds() + 60, B)));
    const item = {
      id: "store-tombstone",
      operation: "add",
      operands: ["1", "2"],
      result: "3",
      region: A,
      createdAt: new Date().toISOString(),
      expiresAt: nowSeconds() + 3600,
      requestHash: "the request",
    };

    // Act
    const before = await store.get("store-tombstone");
    const written = await store.putIfAbsent(item);
    const after = await store.get("store-tombstone");

    // Assess
    expect(before).toBeUndefined();
    expect(written).toEqual({ created: true });
    expect(after).toEqual(item);
  });
});

describe("DynamoDB Local's TTL job and the replicator", () => {
  it("leave the swept version's tombstone in both regions, whichever region sweeps first, and the TTL job leaves tombstones alone", async () => {
    // Prepare: the replicator runs both directions; A writes a version that expires in 2 s, which
    // reaches B. Each region's TTL job then deletes its copy on its own.
    const replicator = startReplicator({ tombstoneRetentionMs: 3_600_000 });
    try {
      const expiring = calculationItem("swept-by-ttl", "4", A, nowSeconds() + 2);
      expect(await harness.writeAsFunction(A, expiring)).toBe(true);
      const version = stampOf(await harness.raw(A, "swept-by-ttl"));
      await eventually("the version reaches B", async () => harness.raw(B, "swept-by-ttl"), 30_000);

      // Act: wait for both regions to hold a tombstone of that version (the TTL job runs about every 10 s).
      const tombstones = await eventually(
        "a tombstone of the swept version in both regions",
        async () => {
          const [inA, inB] = [await harness.raw(A, "swept-by-ttl"), await harness.raw(B, "swept-by-ttl")];
          return isTombstone(inA) && isTombstone(inB) ? [inA, inB] : undefined;
        },
        90_000,
        200,
      );
      // An older write from either region, arriving only now.
      const older = (region: string) =>
        stamped(calculationItem("swept-by-ttl", "1", region), {
          time: formatMicros(stampMicros(version?.time ?? "0") - 1n),
          region,
        });
      const intoB = await harness.pair(A, B).apply(put(older(A)));
      const intoA = await harness.pair(B, A).apply(put(older(B)));
      // An item that expired a second ago, written after the tombstones: once the TTL job has
      // dealt with it, it has had its chance at the tombstones too.
      expect(await harness.writeAsFunction(A, calculationItem("swept-later", "5", A, nowSeconds() - 1))).toBe(true);
      await eventually(
        "the TTL job deletes the later expired item",
        async () => (isTombstone(await harness.raw(A, "swept-later")) ? true : undefined),
        90_000,
        200,
      );

      // Assess
      for (const held of tombstones) expect(stampOf(held)).toEqual(version);
      expect([intoB, intoA]).toEqual(["superseded", "superseded"]);
      expect(stampOf(await harness.raw(A, "swept-by-ttl"))).toEqual(version);
      expect(isTombstone(await harness.raw(A, "swept-by-ttl"))).toBe(true);
    } finally {
      await replicator.stop();
    }
  }, 240_000);
});

describe("the replicator's removal of tombstones", () => {
  it("keeps every tombstone while a region is isolated, then removes those past the retention once replication has caught up", async () => {
    // Prepare: tombstones a previous run left in both regions, of versions applied 10 minutes
    // ago, and one of a version applied an hour from now; A is isolated, so both pairs are paused.
    const old = at(nowSeconds() - 600, A);
    const future = at(nowSeconds() + 3600, A);
    for (const region of [A, B]) {
      await harness.putRaw(region, tombstone("removed-after-rejoin", old));
      await harness.putRaw(region, tombstone("kept-within-retention", future));
    }
    const replicator = startReplicator({ isolated: [A], tombstoneRetentionMs: 60_000 });
    try {
      // Act: a sweep has looked at both regions while A is isolated...
      const whileIsolated = await eventually(
        "a sweep of both regions while A is isolated",
        async () => {
          const status = replicator.status();
          return [A, B].every((region) => (tombstonesIn(status, region)?.held ?? 0) >= 2) ? status : undefined;
        },
        30_000,
      );
      const keptWhileIsolated = [
        await harness.raw(A, "removed-after-rejoin"),
        await harness.raw(B, "removed-after-rejoin"),
      ];
      // ...and then A rejoins.
      replicator.rejoin(A);
      await eventually(
        "the old tombstones removed in both regions",
        async () => {
          const [inA, inB] = [
            await harness.raw(A, "removed-after-rejoin"),
            await harness.raw(B, "removed-after-rejoin"),
          ];
          return inA === undefined && inB === undefined ? true : undefined;
        },
        30_000,
      );
      const status = replicator.status();

      // Assess
      expect(keptWhileIsolated.map((item) => isTombstone(item))).toEqual([true, true]);
      expect(whileIsolated.tombstones.every((one) => one.removed === 0)).toBe(true);
      for (const region of [A, B]) {
        expect(isTombstone(await harness.raw(region, "kept-within-retention")), region).toBe(true);
        expect(tombstonesIn(status, region)?.removed, region).toBeGreaterThanOrEqual(1);
        expect(tombstonesIn(status, region)?.lastError, region).toBeNull();
      }
    } finally {
      await replicator.stop();
    }
  });

  it("removes a tombstone only if it is still the same one, never a write that replaced it", async () => {
    // Prepare: A's tombstones as the replicator knows them, one of which a later write replaced.
    const client = localDynamoDbClient(harness.database.endpoint, A);
    const tombstones = new ReplicaTombstones(A, client, tableA);
    await harness.putRaw(A, tombstone("replaced-before-removal", at(nowSeconds() - 600, B)));
    await tombstones.findExisting();
    expect(await harness.writeAsFunction(A, calculationItem("replaced-before-removal", "8", A))).toBe(true);

    // Act
    const removed = await tombstones.removeBefore(BigInt(Date.now()) * 1000n);
    client.destroy();

    // Assess: the write is kept, and the replaced tombstone is forgotten all the same: what the
    // keeper holds is what the table holds (the future tombstone of the test above).
    const kept = await harness.raw(A, "replaced-before-removal");
    expect([kept?.result?.N, isTombstone(kept), kept?.[TABLE.ttlAttribute]?.N !== "0"]).toEqual(["8", false, true]);
    expect(removed).toBe(tombstones.removed);
    const left = [...(await harness.scan(A)).values()].filter((item) => isTombstone(item)).length;
    expect(tombstones.size).toBe(left);
  });
});
