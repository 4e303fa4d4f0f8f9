import { assertJava, ensureDynamoDbLocal } from "../local/dynamodb/jar.js";
import { buildHandler } from "../scripts/build.js";

/** Runs once before every suite: a fresh bundle (tests exercise what ships) and DynamoDB Local on disk. */
export default async function setup(): Promise<void> {
  await buildHandler({ quiet: true });
  assertJava();
  ensureDynamoDbLocal();
}
