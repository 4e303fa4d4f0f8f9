import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from "@aws-sdk/client-dynamodb-streams";
import type { WireItem } from "../../data/stamps.js";
import { localDynamoDbClient } from "../../dynamodb/tables.js";

export interface StreamEvent {
  id: string;
  eventName: string;
  origin: string | undefined;
  /** The image the record carries (the new one, or the old one of a deletion), stamps included. */
  image: WireItem | undefined;
}

/** Every record a region's table stream holds now, oldest first, read from DynamoDB Local itself. */
export async function readStream(endpoint: string, region: string, tableName: string): Promise<StreamEvent[]> {
  const tables = localDynamoDbClient(endpoint, region);
  const streams = new DynamoDBStreamsClient({
    endpoint,
    region,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  try {
    const { Table } = await tables.send(new DescribeTableCommand({ TableName: tableName }));
    const streamArn = Table?.LatestStreamArn;
    if (streamArn === undefined) throw new Error(`${tableName} in ${region} has no stream`);
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    const events: StreamEvent[] = [];
    for (const shard of StreamDescription?.Shards ?? []) {
      let { ShardIterator: iterator } = await streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shard.ShardId,
          ShardIteratorType: "TRIM_HORIZON",
        }),
      );
      while (iterator !== undefined) {
        const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
        for (const record of page.Records ?? []) {
          const image = record.dynamodb?.NewImage ?? record.dynamodb?.OldImage;
          events.push({
            id: image?.id?.S ?? "",
            eventName: record.eventName ?? "",
            origin: image?.region?.S,
            image: image as WireItem | undefined,
          });
        }
        if ((page.Records ?? []).length === 0) break;
        iterator = page.NextShardIterator;
      }
    }
    return events;
  } finally {
    tables.destroy();
    streams.destroy();
  }
}
