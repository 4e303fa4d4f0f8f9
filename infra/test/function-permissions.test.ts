import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../shared/paths.js";
import { FUNCTION_TABLE_ACTIONS } from "../components/regional-service.js";

// Least privilege on the table: the function's role grants exactly the DynamoDB actions the
// store's code sends, no more (a batch action left behind after the batch route stopped using
// it) and no fewer (a new call denied on its first request in production).

/** The document client's command class for each DynamoDB action. */
const ACTION_OF_COMMAND: Record<string, string> = {
  PutCommand: "dynamodb:PutItem",
  GetCommand: "dynamodb:GetItem",
  UpdateCommand: "dynamodb:UpdateItem",
  DeleteCommand: "dynamodb:DeleteItem",
  QueryCommand: "dynamodb:Query",
  ScanCommand: "dynamodb:Scan",
  BatchGetCommand: "dynamodb:BatchGetItem",
  BatchWriteCommand: "dynamodb:BatchWriteItem",
  TransactGetCommand: "dynamodb:TransactGetItems",
  TransactWriteCommand: "dynamodb:TransactWriteItems",
};

describe("the function's table permissions", () => {
  it("grant exactly the DynamoDB actions functions/store.ts sends", () => {
    // Prepare
    const store = readFileSync(path.join(PROJECT_ROOT, "functions", "store.ts"), "utf8");

    // Act
    const commands = new Set([...store.matchAll(/new lib\.(\w+Command)\(/g)].map((match) => match[1] ?? ""));

    // Assess
    for (const command of commands) expect(ACTION_OF_COMMAND, command).toHaveProperty(command);
    expect([...FUNCTION_TABLE_ACTIONS].sort()).toEqual(
      [...commands].map((command) => ACTION_OF_COMMAND[command]).sort(),
    );
  });
});
