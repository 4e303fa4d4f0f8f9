import { createRequire } from "node:module";
import path from "node:path";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

export type DocumentClientModule = typeof import("@aws-sdk/lib-dynamodb");

export interface DocumentClientHandle {
  client: DynamoDBDocumentClient;
  lib: DocumentClientModule;
}

export interface DocumentClientOptions {
  region: string;
  endpoint?: string | undefined;
}

/** Timeouts below Route 53's 2 s health-check budget, so a hung data layer fails fast. */
const CONNECTION_TIMEOUT_MS = 1000;
const REQUEST_TIMEOUT_MS = 2000;

let cached: Promise<DocumentClientHandle> | undefined;

/**
 * The one DynamoDB document client of this instance. The SDK (the runtime's copy on Lambda)
 * loads on first use rather than at init: it costs about as much as Node's own start-up, and
 * requests rejected at validation never need it.
 */
export function getDocumentClient(options: DocumentClientOptions): Promise<DocumentClientHandle> {
  cached ??= createDocumentClient(options);
  return cached;
}

type ClientModule = typeof import("@aws-sdk/client-dynamodb");

function isModuleNotFound(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === "MODULE_NOT_FOUND" || code === "ERR_MODULE_NOT_FOUND";
}

/**
 * Lambda resolves the SDK from its runtime. A bundle copied away from node_modules looks in
 * the working directory's next; failing both, the error says what is missing.
 */
async function loadSdk(): Promise<[ClientModule, DocumentClientModule]> {
  try {
    return await Promise.all([import("@aws-sdk/client-dynamodb"), import("@aws-sdk/lib-dynamodb")]);
  } catch (error) {
    if (!isModuleNotFound(error)) throw error;
    const fromWorkingDirectory = createRequire(path.join(process.cwd(), "index.js"));
    try {
      return [fromWorkingDirectory("@aws-sdk/client-dynamodb"), fromWorkingDirectory("@aws-sdk/lib-dynamodb")];
    } catch {
      throw new Error(
        "AWS SDK v3 not found: @aws-sdk/client-dynamodb and @aws-sdk/lib-dynamodb are not bundled (Lambda's nodejs22.x runtime provides them); elsewhere run from a folder whose node_modules has them",
      );
    }
  }
}

async function createDocumentClient(options: DocumentClientOptions): Promise<DocumentClientHandle> {
  const [{ DynamoDBClient }, lib] = await loadSdk();
  const local = options.endpoint !== undefined;
  const client = new DynamoDBClient({
    region: options.region,
    maxAttempts: 3,
    requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    // DynamoDB Local accepts any key; without one the SDK would probe instance metadata for seconds.
    ...(local && process.env.AWS_ACCESS_KEY_ID === undefined
      ? { credentials: { accessKeyId: "local", secretAccessKey: "local" } }
      : {}),
  });
  return {
    lib,
    client: lib.DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
      unmarshallOptions: { wrapNumbers: true },
    }),
  };
}
