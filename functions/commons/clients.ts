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

async function createDocumentClient(options: DocumentClientOptions): Promise<DocumentClientHandle> {
  const [{ DynamoDBClient }, lib] = await Promise.all([
    import("@aws-sdk/client-dynamodb"),
    import("@aws-sdk/lib-dynamodb"),
  ]);
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
