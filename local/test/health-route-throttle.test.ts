import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LambdaEmulator, TokenBucket } from "../region/lambda.js";
import { type RegionServer, startRegionServer } from "../region/server.js";

const FIXTURE = path.join(__dirname, "fixtures", "slow-function.js");
/** Refills so slowly that no token comes back within a test: the buckets hold what they start with. */
const NO_REFILL_PER_SECOND = 0.001;

describe("the regional API's throttling of /health", () => {
  let server: RegionServer | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function serve() {
    const lambda = new LambdaEmulator({ bundlePath: FIXTURE, timeoutMs: 5000, concurrency: 10 });
    server = await startRegionServer({
      region: "us-east-1",
      function: lambda,
      throttle: new TokenBucket(NO_REFILL_PER_SECOND, 2),
      healthThrottle: new TokenBucket(NO_REFILL_PER_SECOND, 3),
    });
    const url = server.url;
    return async (method: "GET" | "POST", pathName: string) => (await fetch(`${url}${pathName}`, { method })).status;
  }

  it("keeps answering /health after a burst of API requests has spent the stage's tokens", async () => {
    const call = await serve();

    const api = [];
    for (let index = 0; index < 4; index += 1) api.push(await call("POST", "/v1/calculations"));
    const health = await call("GET", "/health");

    expect(api).toEqual([200, 200, 429, 429]);
    expect(health).toBe(200);
  });

  it("throttles /health with its own bucket, which leaves the API's tokens alone", async () => {
    const call = await serve();

    const health = [];
    for (let index = 0; index < 4; index += 1) health.push(await call("GET", "/health?probe=1"));
    const api = await call("GET", "/v1/calculations/some-id");

    expect(health).toEqual([200, 200, 200, 429]);
    expect(api).toBe(200);
  });
});
