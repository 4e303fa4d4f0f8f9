import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type LoadedBundle, loadBundle } from "./support/bundle.js";
import { TEST_REGION, TEST_TABLE, useDynamoDbLocal } from "./support/dynamodb.js";
import { get, postJson } from "./support/events.js";

const database = useDynamoDbLocal();
let bundle: LoadedBundle;

beforeAll(() => {
  bundle = loadBundle({
    TABLE_NAME: TEST_TABLE,
    AWS_REGION: TEST_REGION,
    DYNAMODB_ENDPOINT: database.endpoint,
    LOG_LEVEL: "info",
  });
});
afterEach(() => vi.restoreAllMocks());

/** Captures the JSON lines the function writes to stdout while `act` runs. */
async function logLinesOf(act: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  await act();
  vi.restoreAllMocks();
  return lines
    .flatMap((chunk) => chunk.split("\n"))
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line));
}

describe("logs and metrics", () => {
  it("writes one structured line per request, marking only the first as a cold start", async () => {
    const lines = await logLinesOf(async () => {
      await bundle.handler(postJson("/v1/calculations", { operation: "add", operands: [1, 2] }));
      await bundle.handler(get("/health"));
    });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: "INFO",
      message: "request",
      route: "POST /v1/calculations",
      status: 201,
      region: TEST_REGION,
      coldStart: true,
      operation: "add",
    });
    expect(lines[1]).toMatchObject({ route: "GET /health", status: 200, coldStart: false });
    for (const line of lines) {
      expect(line.requestId).toEqual(expect.any(String));
      expect(line.durationMs).toEqual(expect.any(Number));
    }
  });

  it("never logs the body, even of a rejected request", async () => {
    const secret = "314159.26535897932384626";
    const lines = await logLinesOf(async () => {
      await bundle.handler(postJson("/v1/calculations", { operation: "add", operands: [secret, 1], id: "secret-id" }));
      await bundle.handler(postJson("/v1/calculations", { operation: "add", operands: [secret, "oops"] }));
    });
    const text = JSON.stringify(lines);
    expect(lines).toHaveLength(2);
    expect(text).not.toContain("314159");
    expect(text).not.toContain("oops");
  });

  it("counts requests by route, operation and status, and times them and their DynamoDB calls", async () => {
    await bundle.handler(postJson("/v1/calculations", { operation: "median", operands: [1, 2, 3] }));
    await bundle.handler(postJson("/v1/calculations", { operation: "cube", operands: [1] }));
    const text = await bundle.metrics.registry.metrics();
    expect(text).toContain('calcburst_requests_total{route="POST /v1/calculations",operation="median",status="201"} 1');
    expect(text).toContain('calcburst_requests_total{route="POST /v1/calculations",operation="none",status="400"} 1');
    expect(text).toContain("calcburst_cold_starts_total 1");
    expect(text).toMatch(/calcburst_request_duration_seconds_count\{route="POST \/v1\/calculations"\} [1-9]/);
    expect(text).toMatch(/calcburst_dynamodb_call_duration_seconds_count\{command="PutItem",outcome="ok"\} [1-9]/);
  });
});
