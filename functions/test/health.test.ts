import { describe, expect, it } from "vitest";
import { freePort } from "../../local/dynamodb/launcher.js";
import { healthResponseSchema } from "../../shared/responses.js";
import { getDocumentClient } from "../commons/clients.js";
import { createMetrics } from "../commons/metrics.js";
import { createHealthCheck } from "../health.js";
import { DynamoCalculationStore } from "../store.js";
import { loadBundle } from "./support/bundle.js";
import { TEST_REGION, TEST_TABLE, useDynamoDbLocal } from "./support/dynamodb.js";
import { bodyOf, get } from "./support/events.js";

const database = useDynamoDbLocal();

interface HealthBody {
  status: string | number;
  type?: string;
  reasons: string[];
  checks: { killSwitch: { status: string }; data: { status: string; detail?: string } };
}

/** A real store on the suite's DynamoDB Local that counts sentinel reads. */
function countingStore() {
  const store = new DynamoCalculationStore({
    tableName: TEST_TABLE,
    metrics: createMetrics(),
    connect: () => getDocumentClient({ region: TEST_REGION, endpoint: database.endpoint }),
  });
  let reads = 0;
  const readSentinel = store.readSentinel.bind(store);
  store.readSentinel = (signal) => {
    reads++;
    return readSentinel(signal);
  };
  return { store, reads: () => reads };
}

describe("health", () => {
  it("passes with 200 when the sentinel item can be read", async () => {
    const bundle = loadBundle({
      TABLE_NAME: TEST_TABLE,
      AWS_REGION: TEST_REGION,
      DYNAMODB_ENDPOINT: database.endpoint,
    });
    const response = await bundle.handler(get("/health"));
    expect(response.statusCode).toBe(200);
    expect(healthResponseSchema.safeParse(bodyOf(response)).success).toBe(true);
    expect(bodyOf<HealthBody>(response)).toMatchObject({
      status: "pass",
      region: TEST_REGION,
      reasons: [],
      checks: { killSwitch: { status: "pass" }, data: { status: "pass", detail: "sentinel item read" } },
    });
  });

  it("fails with 503 while the kill switch is on, and recovers when it is off", async () => {
    const bundle = loadBundle({
      TABLE_NAME: TEST_TABLE,
      AWS_REGION: TEST_REGION,
      DYNAMODB_ENDPOINT: database.endpoint,
    });
    process.env.CALCBURST_REGION_DISABLED = "true";
    const disabled = await bundle.handler(get("/health"));
    process.env.CALCBURST_REGION_DISABLED = "false";
    const enabled = await bundle.handler(get("/health"));
    expect(disabled.statusCode).toBe(503);
    expect(disabled.headers["content-type"]).toBe("application/problem+json");
    const body = bodyOf<HealthBody>(disabled);
    expect(body).toMatchObject({
      type: "urn:calcburst:problem:region-unhealthy",
      status: 503,
      checks: { killSwitch: { status: "fail" } },
    });
    expect(body.reasons).toEqual([expect.stringContaining("kill switch")]);
    expect(enabled.statusCode).toBe(200);
  });

  it("fails with 503 naming the data layer when DynamoDB cannot be reached", async () => {
    const deadEndpoint = `http://127.0.0.1:${await freePort()}`;
    const bundle = loadBundle({ TABLE_NAME: TEST_TABLE, AWS_REGION: TEST_REGION, DYNAMODB_ENDPOINT: deadEndpoint });
    const response = await bundle.handler(get("/health"));
    expect(response.statusCode).toBe(503);
    const body = bodyOf<HealthBody>(response);
    expect(body.checks.data.status).toBe("fail");
    expect(body.reasons).toEqual([expect.stringContaining("DynamoDB replica cannot be read")]);
  });

  it("fails instead of hanging when DynamoDB is frozen", async () => {
    const { store } = countingStore();
    const check = createHealthCheck({ store, isRegionDisabled: () => false, timeoutMs: 300 });
    process.kill(database.instance.pid, "SIGSTOP");
    try {
      const report = await check();
      expect(report.status).toBe("fail");
      expect(report.checks.data.detail).toMatch(/abort|timeout/i);
    } finally {
      process.kill(database.instance.pid, "SIGCONT");
    }
  });

  it("reads the sentinel at most once per 5 s window", async () => {
    const { store, reads } = countingStore();
    let now = 1_000_000;
    const check = createHealthCheck({ store, isRegionDisabled: () => false, nowMs: () => now });
    await Promise.all([check(), check()]);
    now += 4_999;
    await check();
    expect(reads()).toBe(1);
    now += 1;
    const fresh = await check();
    expect(reads()).toBe(2);
    expect(fresh.status).toBe("pass");
  });

  it("keeps a cached pass for at most 5 s after the data layer fails", async () => {
    const { store } = countingStore();
    let now = 2_000_000;
    const check = createHealthCheck({ store, isRegionDisabled: () => false, nowMs: () => now });
    expect((await check()).status).toBe("pass");
    await database.instance.stop();
    now += 4_000;
    expect((await check()).status).toBe("pass");
    now += 1_000;
    const report = await check();
    expect(report.status).toBe("fail");
    expect(report.reasons).toEqual([expect.stringContaining("DynamoDB replica cannot be read")]);
  });
});
