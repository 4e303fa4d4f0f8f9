import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { parse, stringify } from "yaml";
import { PROJECT_ROOT } from "../../../shared/paths.js";
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

/**
 * A two-region MRSC stack with a witness, written for a test: Pulumi.strong.yaml with its third
 * region as the witness (`calcburst:tableWitnessRegion`), the other shape AWS accepts. A stack
 * file of the test's own rather than a fourth stack in the repository: it deploys nothing new.
 * Returns the file's path (what `--stack` takes) and the layout.
 */
export function writeWitnessStack(): { file: string; regions: [string, string]; witness: string } {
  const document = parse(readFileSync(path.join(PROJECT_ROOT, "Pulumi.strong.yaml"), "utf8")) as {
    config: Record<string, unknown>;
  };
  const [first = "", second = "", third = ""] = document.config["calcburst:regions"] as string[];
  document.config["calcburst:regions"] = [first, second];
  document.config["calcburst:tableWitnessRegion"] = third;
  const file = path.join(mkdtempSync(path.join(tmpdir(), "calcburst-witness-stack-")), "Pulumi.witness.yaml");
  writeFileSync(file, stringify(document));
  return { file, regions: [first, second], witness: third };
}
