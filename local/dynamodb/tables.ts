import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { createTableInput, TABLE } from "../../shared/table.js";

/** A client for DynamoDB Local; it accepts any credentials. */
export function localDynamoDbClient(
  endpoint: string,
  region: string,
  options: { maxAttempts?: number } = {},
): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    ...options,
  });
}

/**
 * Creates the calculations table as the contract in shared/table.ts says (stream on, TTL on
 * `expiresAt`) and writes the health sentinel. Safe to call again on an existing table.
 */
export async function ensureCalculationsTable(endpoint: string, region: string, tableName: string): Promise<void> {
  const client = localDynamoDbClient(endpoint, region);
  try {
    try {
      await client.send(new CreateTableCommand(createTableInput(tableName)));
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
    await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: tableName });
    await client
      .send(
        new UpdateTimeToLiveCommand({
          TableName: tableName,
          TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
        }),
      )
      .catch((error: Error) => {
        // Enabling TTL twice is refused; the table already has it.
        if (!/already enabled/i.test(error.message)) throw error;
      });
    await DynamoDBDocumentClient.from(client).send(
      new PutCommand({ TableName: tableName, Item: { id: TABLE.sentinelId, purpose: "health check read" } }),
    );
  } finally {
    client.destroy();
  }
}

/** How many items the table holds (DynamoDB Local counts them live; the health sentinel is one). */
export async function countItems(endpoint: string, region: string, tableName: string): Promise<number> {
  const client = localDynamoDbClient(endpoint, region);
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    return Table?.ItemCount ?? 0;
  } finally {
    client.destroy();
  }
}
