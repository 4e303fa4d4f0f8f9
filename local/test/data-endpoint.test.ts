import { request as httpRequest } from "node:http";
import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  DescribeTableCommand,
  type DynamoDBClient,
  ExecuteStatementCommand,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from "@aws-sdk/client-dynamodb-streams";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPLICATION_STAMP } from "../../shared/table.js";
import { formatMicros, stampMicros, stampOf, type WireItem } from "../data/stamps.js";
import { localDynamoDbClient } from "../dynamodb/tables.js";
import { compareReplicas } from "../replicator/convergence.js";
import { calculationItem, useReplicaHarness } from "./support/replicas.js";
import { readStream } from "./support/streams.js";

// The regional data endpoint (local/data/) as any DynamoDB client meets it, against a real
// DynamoDB Local: what it stamps, what it hides, what it refuses, that a write lands only after
// every write of its item already applied, and that nothing a client sends can stop it or slip a
// write past its stamps.

const REGION = "us-east-1";
const harness = useReplicaHarness([REGION]);
let client: DynamoDBClient;
let tableName: string;

beforeAll(() => {
  const region = harness.regions[REGION];
  if (region === undefined) throw new Error("no region");
  tableName = region.tableName;
  client = localDynamoDbClient(region.endpoint.url, REGION, { maxAttempts: 1 });
});
afterAll(() => client?.destroy());

const hasStamp = (item: Record<string, unknown> | undefined) =>
  item !== undefined && (REPLICATION_STAMP.time in item || REPLICATION_STAMP.region in item);

/** A raw request to the endpoint: its status and body. */
function raw(target: string, body: Buffer | string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const url = new URL(harness.regions[REGION]?.endpoint.url ?? "");
    const call = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: "POST",
        path: "/",
        headers: {
          "content-type": "application/x-amz-json-1.0",
          "x-amz-target": `DynamoDB_20120810.${target}`,
          authorization:
            "AWS4-HMAC-SHA256 Credential=local/20261130/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
          ...headers,
        },
      },
      (response) => {
        let text = "";
        response.on("data", (chunk: Buffer) => {
          text += chunk.toString();
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text }));
      },
    );
    call.on("error", reject);
    call.end(body);
  });
}

/** An item well past the 8 KB at which DynamoDB Local answers in chunks. */
function largeItem(id: string): WireItem {
  return {
    ...calculationItem(id, "1", REGION),
    operands: { L: Array.from({ length: 1000 }, (_, i) => ({ N: `${i}.123456789` })) },
  };
}

describe("the data endpoint", () => {
  it("stamps what a write puts and hides the stamps from every read, whatever the item's size", async () => {
    // Prepare
    await client.send(new PutItemCommand({ TableName: tableName, Item: largeItem("large-1") as never }));
    await client.send(new PutItemCommand({ TableName: tableName, Item: largeItem("large-2") as never }));

    // Act
    const got = await client.send(new GetItemCommand({ TableName: tableName, Key: { id: { S: "large-1" } } }));
    const scanned = await client.send(new ScanCommand({ TableName: tableName, Limit: 100 }));
    const batch = await client.send(
      new BatchGetItemCommand({
        RequestItems: { [tableName]: { Keys: [{ id: { S: "large-1" } }, { id: { S: "large-2" } }] } },
      }),
    );
    const refused = await client
      .send(
        new PutItemCommand({
          TableName: tableName,
          Item: largeItem("large-1") as never,
          ConditionExpression: "attribute_not_exists(id)",
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      )
      .catch((error: unknown) => error);

    // Assess: the SDK checked every body's checksum; no reader sees a stamp; DynamoDB Local holds them.
    expect(got.Item?.operands?.L).toHaveLength(1000);
    expect(hasStamp(got.Item)).toBe(false);
    expect(scanned.Items?.length).toBeGreaterThanOrEqual(2);
    expect(scanned.Items?.some(hasStamp)).toBe(false);
    expect(batch.Responses?.[tableName]).toHaveLength(2);
    expect(batch.Responses?.[tableName]?.some(hasStamp)).toBe(false);
    expect(refused).toBeInstanceOf(ConditionalCheckFailedException);
    expect((refused as ConditionalCheckFailedException).Item?.operands?.L).toHaveLength(1000);
    expect(hasStamp((refused as ConditionalCheckFailedException).Item)).toBe(false);
    expect(stampOf(await harness.raw(REGION, "large-1"))?.region).toBe(REGION);
  });

  it("takes a request body sent in chunks", async () => {
    const body = JSON.stringify({ TableName: tableName, Item: calculationItem("chunked-request", "2", REGION) });

    const answer = await raw("PutItem", body, { "transfer-encoding": "chunked" });

    expect(answer.status, answer.body).toBe(200);
    expect(stampOf(await harness.raw(REGION, "chunked-request"))?.region).toBe(REGION);
  });

  it.each([
    ["a null body", "PutItem", "null"],
    ["a null UpdateItem", "UpdateItem", "null"],
    ["a batch whose requests are not a list", "BatchWriteItem", '{"RequestItems":{"t":5}}'],
    ["a batch with a null request", "BatchWriteItem", '{"RequestItems":{"t":[null]}}'],
    ["transact items that are not a list", "TransactWriteItems", '{"TransactItems":5}'],
    ["a null transact item", "TransactWriteItems", '{"TransactItems":[null]}'],
    [
      "an update expression that is not a string",
      "UpdateItem",
      '{"TableName":"x","Key":{"id":{"S":"a"}},"UpdateExpression":5}',
    ],
    [
      "a byte-order mark before the JSON",
      "PutItem",
      `\ufeff${JSON.stringify({ TableName: "t", Item: { id: { S: "bom" } } })}`,
    ],
    ["text after the JSON", "PutItem", `${JSON.stringify({ TableName: "t", Item: { id: { S: "trail" } } })} trailing`],
    [
      "200,000 nested arrays",
      "PutItem",
      `{"TableName":"t","Item":{"id":{"S":"deep"},"v":${"[".repeat(200_000)}${"]".repeat(200_000)}}}`,
    ],
    [
      "bytes that are not UTF-8",
      "PutItem",
      Buffer.concat([
        Buffer.from('{"TableName":"t","Item":{"id":{"S":"'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"}}}'),
      ]),
    ],
  ])("refuses %s with a 400 and keeps serving", async (_what, target, body) => {
    // Act
    const answer = await raw(target, body);
    const after = await client.send(new GetItemCommand({ TableName: tableName, Key: { id: { S: "large-1" } } }));

    // Assess
    expect(answer.status, answer.body).toBe(400);
    expect(JSON.parse(answer.body).__type).toMatch(/#(ValidationException|SerializationException)$/);
    expect(after.Item).toBeDefined();
  });

  it("refuses a batch that puts items, which could not carry the guard, and passes one that only deletes", async () => {
    const puts = await raw(
      "BatchWriteItem",
      JSON.stringify({
        RequestItems: { [tableName]: [{ PutRequest: { Item: calculationItem("batched", "1", REGION) } }] },
      }),
    );
    const deletes = await raw(
      "BatchWriteItem",
      JSON.stringify({ RequestItems: { [tableName]: [{ DeleteRequest: { Key: { id: { S: "chunked-request" } } } }] } }),
    );

    expect(puts.status).toBe(400);
    expect(JSON.parse(puts.body).message).toMatch(/BatchWriteItem puts are not supported by the local data endpoint/);
    expect(deletes.status, deletes.body).toBe(200);
    expect(await harness.raw(REGION, "chunked-request")).toBeUndefined();
  });

  it("lands a write after a later one already applied (a replicated one), stamped later still", async () => {
    // Prepare: the item holds a version applied a minute from now in another region, as if
    // replicated from a region whose clock runs ahead.
    const ahead = { time: formatMicros((BigInt(Date.now()) + 60_000n) * 1000n), region: "eu-west-1" };
    await harness.putRaw(REGION, {
      ...calculationItem("replicated-ahead", "1", "eu-west-1"),
      [REPLICATION_STAMP.time]: { N: ahead.time },
      [REPLICATION_STAMP.region]: { S: ahead.region },
    });

    // Act: an unconditional write through the endpoint, whose first stamp is earlier.
    await client.send(
      new PutItemCommand({ TableName: tableName, Item: calculationItem("replicated-ahead", "2", REGION) as never }),
    );

    // Assess: it landed (as it would on AWS, applied after), with a stamp after the one it found.
    const stored = await harness.raw(REGION, "replicated-ahead");
    expect(stored?.result?.N).toBe("2");
    expect(stampMicros(stampOf(stored)?.time ?? "0")).toBeGreaterThan(stampMicros(ahead.time));
  });

  it("keeps a client's own condition: its failure answers without the old item unless the client asked", async () => {
    const refused = await client
      .send(
        new PutItemCommand({
          TableName: tableName,
          Item: calculationItem("large-2", "3", REGION) as never,
          ConditionExpression: "attribute_not_exists(id)",
        }),
      )
      .catch((error: unknown) => error);
    const cancelled = await client
      .send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: tableName, Item: calculationItem("in-a-transaction", "4", REGION) as never } },
            {
              ConditionCheck: {
                TableName: tableName,
                Key: { id: { S: "large-2" } },
                ConditionExpression: "attribute_not_exists(id)",
              },
            },
          ],
        }),
      )
      .catch((error: unknown) => error);
    const applied = await client.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName: tableName, Item: calculationItem("in-a-transaction", "5", REGION) as never } },
        ],
      }),
    );

    expect(refused).toBeInstanceOf(ConditionalCheckFailedException);
    expect((refused as ConditionalCheckFailedException).Item).toBeUndefined();
    expect((cancelled as Error).name).toBe("TransactionCanceledException");
    expect(applied.$metadata.httpStatusCode).toBe(200);
    expect(stampOf(await harness.raw(REGION, "in-a-transaction"))?.region).toBe(REGION);
  });

  it("refuses an expression whose parentheses do not balance, and its own placeholders, so nothing slips past its clauses", async () => {
    // Prepare: an item the unbalanced condition would find.
    await client.send(
      new PutItemCommand({ TableName: tableName, Item: calculationItem("unbalanced", "1", REGION) as never }),
    );
    const unbalanced = "attribute_exists(id)) OR (attribute_exists(id)";
    const refusal = (call: Promise<unknown>) =>
      call.then(
        () => "accepted",
        (error: Error) => `${error.name}: ${error.message}`,
      );

    // Act
    const update = await refusal(
      client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { id: { S: "unbalanced" } },
          UpdateExpression: "SET #result = :result",
          ConditionExpression: unbalanced,
          ExpressionAttributeNames: { "#result": "result" },
          ExpressionAttributeValues: { ":result": { N: "2" } },
        }),
      ),
    );
    const scan = await refusal(client.send(new ScanCommand({ TableName: tableName, FilterExpression: unbalanced })));
    const borrowed = await refusal(
      client.send(
        new ScanCommand({
          TableName: tableName,
          FilterExpression: "attribute_exists(#calcburstTombstone)",
          ExpressionAttributeNames: { "#calcburstTombstone": "region" },
        }),
      ),
    );
    const after = await client.send(
      new GetItemCommand({ TableName: tableName, Key: { id: { S: "unbalanced" } }, ConsistentRead: true }),
    );

    // Assess
    expect(update).toBe(
      "ValidationException: UpdateItem.ConditionExpression: the expression's parentheses do not balance",
    );
    expect(scan).toBe("ValidationException: Scan.FilterExpression: the expression's parentheses do not balance");
    expect(borrowed).toBe(
      "ValidationException: Scan: the placeholder #calcburstTombstone is reserved by the local data endpoint; name it otherwise",
    );
    expect(after.Item?.result).toEqual({ N: "1" });
  });

  it("writes nothing it did not stamp", async () => {
    const everything = await harness.scan(REGION);

    expect([...everything.values()].filter((item) => stampOf(item) === undefined).map((item) => item.id?.S)).toEqual(
      [],
    );
  });

  it("stamps concurrent unconditional writes of one item in the order DynamoDB applies them", async () => {
    // Prepare: 20 items, each written by 8 writers at once, half with PutItem and half with UpdateItem.
    const ids = Array.from({ length: 20 }, (_, i) => `unconditional-${i}`);
    const expiresAt = { N: String(Math.floor(Date.now() / 1000) + 3600) };

    // Act
    await Promise.all(
      ids.flatMap((id, i) =>
        Array.from({ length: 8 }, (_, writer) =>
          i % 2 === 0
            ? client.send(
                new PutItemCommand({
                  TableName: tableName,
                  Item: { ...calculationItem(id, String(writer), REGION), expiresAt } as never,
                }),
              )
            : client.send(
                new UpdateItemCommand({
                  TableName: tableName,
                  Key: { id: { S: id } },
                  UpdateExpression: "SET #r = :w, expiresAt = :e",
                  ExpressionAttributeNames: { "#r": "result" },
                  ExpressionAttributeValues: { ":w": { N: String(writer) }, ":e": expiresAt },
                }),
              ),
        ),
      ),
    );

    // Assess: in the table's stream, each item's stamps only grow.
    const events = (await readStream(harness.database.endpoint, REGION, tableName)).filter((event) =>
      event.id.startsWith("unconditional-"),
    );
    for (const id of ids) {
      const stamps = events
        .filter((event) => event.id === id)
        .map((event) => stampMicros(stampOf(event.image)?.time ?? "0"));
      expect(stamps, id).toHaveLength(8);
      expect(
        [...stamps].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
        id,
      ).toEqual(stamps);
    }
  });

  it("hides the stamps in stream records read through it, and lets PartiQL reads through but not writes", async () => {
    // Prepare
    const streams = new DynamoDBStreamsClient({
      endpoint: harness.regions[REGION]?.endpoint.url ?? "",
      region: REGION,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });

    // Act
    const described = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const stream = await streams.send(new DescribeStreamCommand({ StreamArn: described.Table?.LatestStreamArn }));
    const { ShardIterator } = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: described.Table?.LatestStreamArn,
        ShardId: stream.StreamDescription?.Shards?.[0]?.ShardId,
        ShardIteratorType: "TRIM_HORIZON",
      }),
    );
    const records = await streams.send(new GetRecordsCommand({ ShardIterator, Limit: 100 }));
    const select = await client.send(
      new ExecuteStatementCommand({ Statement: `SELECT * FROM "${tableName}" WHERE id = 'large-1'` }),
    );
    const insert = await client
      .send(new ExecuteStatementCommand({ Statement: `INSERT INTO "${tableName}" VALUE {'id': 'partiql'}` }))
      .catch((error: Error) => error);
    streams.destroy();

    // Assess
    expect(records.Records?.length).toBeGreaterThan(0);
    expect(
      records.Records?.some((record) => hasStamp(record.dynamodb?.NewImage) || hasStamp(record.dynamodb?.OldImage)),
    ).toBe(false);
    expect(select.Items).toHaveLength(1);
    expect(hasStamp(select.Items?.[0])).toBe(false);
    expect((insert as Error).message).toMatch(/PartiQL writes cannot be stamped/);
  });
});

describe("the convergence check's comparison", () => {
  it("calls equal Numbers equal however they are written, and different ones different", () => {
    const item = (n: string): WireItem => ({ id: { S: "a" }, v: { N: n }, s: { NS: ["2", "1.0"] } });

    const same = compareReplicas([
      { region: "a", items: new Map([["a", item("1.50")]]) },
      { region: "b", items: new Map([["a", { ...item("1.5"), s: { NS: ["1", "2.00"] } }]]) },
    ]);
    const different = compareReplicas([
      { region: "a", items: new Map([["a", item("1.5")]]) },
      { region: "b", items: new Map([["a", item("1.51")]]) },
    ]);

    expect(same).toEqual([]);
    expect(different.map((one) => one.id)).toEqual(["a"]);
  });
});
