import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { localDynamoDbClient } from "../../dynamodb/tables.js";
import type { RunningCloud } from "./cloud.js";

/** The regions of a cloud whose DynamoDB Local holds the item, read there directly (eventually consistent, no majority). */
export async function regionsHolding(cloud: RunningCloud, tableName: string, id: string): Promise<string[]> {
  const holding: string[] = [];
  for (const [region, { dynamodb }] of Object.entries(cloud.state().regions)) {
    const client = localDynamoDbClient(dynamodb.endpoint, region, { maxAttempts: 1 });
    try {
      const answer = await client.send(new GetItemCommand({ TableName: tableName, Key: { id: { S: id } } }));
      if (answer.Item !== undefined) holding.push(region);
    } finally {
      client.destroy();
    }
  }
  return holding;
}
