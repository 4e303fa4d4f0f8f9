import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll } from "vitest";
import { type DynamoDbLocal, startDynamoDbLocal } from "../../../local/dynamodb/launcher.js";
import { ensureCalculationsTable, localDynamoDbClient } from "../../../local/dynamodb/tables.js";
import { TABLE } from "../../../shared/table.js";

export const TEST_REGION = "eu-west-1";
export const TEST_TABLE = "calculations-test";

export interface SuiteDatabase {
  endpoint: string;
  instance: DynamoDbLocal;
  /** Every item except the health sentinel, raw attribute values included. */
  scanItems(): Promise<Record<string, unknown>[]>;
}

/** Starts a fresh DynamoDB Local with the calculations table for this suite; stops it afterwards, even on failure. */
export function useDynamoDbLocal(): SuiteDatabase {
  const database = {} as SuiteDatabase;
  beforeAll(async () => {
    const instance = await startDynamoDbLocal();
    await ensureCalculationsTable(instance.endpoint, TEST_REGION, TEST_TABLE);
    const client = localDynamoDbClient(instance.endpoint, TEST_REGION);
    Object.assign(database, {
      instance,
      endpoint: instance.endpoint,
      scanItems: async () => {
        const items: Record<string, unknown>[] = [];
        let start: Record<string, never> | undefined;
        do {
          const page = await client.send(
            new ScanCommand({ TableName: TEST_TABLE, ConsistentRead: true, ExclusiveStartKey: start }),
          );
          for (const item of page.Items ?? []) if (item.id?.S !== TABLE.sentinelId) items.push(item);
          start = page.LastEvaluatedKey as Record<string, never> | undefined;
        } while (start !== undefined);
        return items;
      },
    });
  });
  afterAll(async () => {
    await database.instance?.stop();
  });
  return database;
}
