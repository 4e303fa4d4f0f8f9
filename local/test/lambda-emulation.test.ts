import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LambdaEmulator, TokenBucket } from "../region/lambda.js";
import { API_GATEWAY_MAX_BODY_BYTES, type RegionServer, startRegionServer } from "../region/server.js";

const FIXTURE = path.join(__dirname, "fixtures", "slow-function.js");

interface FixtureAnswer {
  instance: number;
  invocations: number;
  flag: string | null;
}

describe("the regional API's API Gateway and Lambda behaviour", () => {
  let server: RegionServer | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function serve(options: { timeoutMs?: number; concurrency?: number; throttle?: TokenBucket }) {
    const lambda = new LambdaEmulator({
      bundlePath: FIXTURE,
      timeoutMs: options.timeoutMs ?? 5000,
      concurrency: options.concurrency ?? 10,
    });
    server = await startRegionServer({
      region: "us-east-1",
      function: lambda,
      ...(options.throttle !== undefined && { throttle: options.throttle }),
    });
    const call = async (body: Record<string, unknown> = {}) => {
      const response = await fetch(`${server?.url}/anything`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as FixtureAnswer & { message?: string } };
    };
    return { lambda, call };
  }

  it("answers 503 when the function runs past its timeout, and discards that instance", async () => {
    const { lambda, call } = await serve({ timeoutMs: 200 });

    const slow = await call({ sleepMs: 1000 });
    const next = await call();

    expect(slow).toEqual({ status: 503, body: { message: "Service Unavailable" } });
    expect(lambda.coldStarts).toBe(2);
    expect(next.body.invocations).toBe(1);
  });

  it("answers 429 when every allowed concurrent execution is busy", async () => {
    const { call } = await serve({ concurrency: 2 });

    const answers = await Promise.all([call({ sleepMs: 300 }), call({ sleepMs: 300 }), call({ sleepMs: 300 })]);

    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 200, 429]);
    expect(answers.find((answer) => answer.status === 429)?.body).toEqual({ message: "Too Many Requests" });
  });

  it("starts a fresh module instance per cold start and reuses warm ones", async () => {
    const { lambda, call } = await serve({});

    const concurrent = await Promise.all([call({ sleepMs: 100 }), call({ sleepMs: 100 })]);
    const warm = await call();

    expect(new Set(concurrent.map((answer) => answer.body.instance)).size).toBe(2);
    expect(lambda.coldStarts).toBe(2);
    expect(concurrent.map((answer) => answer.body.instance)).toContain(warm.body.instance);
    expect(warm.body.invocations).toBe(2);
  });

  it("starts new instances that see the new environment after a configuration change", async () => {
    const { lambda, call } = await serve({});
    const before = await call();

    process.env.CALCBURST_FIXTURE_FLAG = "changed";
    lambda.recycle();
    const after = await call();
    delete process.env.CALCBURST_FIXTURE_FLAG;

    expect(before.body.flag).toBeNull();
    expect(after.body.flag).toBe("changed");
    expect(after.body.instance).not.toBe(before.body.instance);
  });

  it("answers 500 when the function throws", async () => {
    const { call } = await serve({});

    const failed = await call({ fail: true });

    expect(failed).toEqual({ status: 500, body: { message: "Internal Server Error" } });
  });

  it("answers 429 once the stage's burst is spent", async () => {
    const { call } = await serve({ throttle: new TokenBucket(1, 3) });

    const answers = [];
    for (let index = 0; index < 5; index += 1) answers.push((await call()).status);

    expect(answers).toEqual([200, 200, 200, 429, 429]);
  });

  it("answers 413 to a body over API Gateway's 10 MB limit without invoking the function", async () => {
    const { lambda } = await serve({});

    const response = await fetch(`${server?.url}/v1/calculations`, {
      method: "POST",
      body: Buffer.alloc(API_GATEWAY_MAX_BODY_BYTES + 1, 0x20),
    });

    expect(response.status).toBe(413);
    expect(lambda.coldStarts).toBe(0);
  });
});
