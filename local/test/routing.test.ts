import { describe, expect, it } from "vitest";
import { loadStack } from "../../shared/stack-file.js";
import { request, useCloud } from "./support/cloud.js";

const { config } = loadStack("prod");

/** The region the prod stack's latency table puts nearest to `location`. */
function nearest(location: string): string {
  const latencies = config.localClientLatencyMs[location] ?? {};
  return [...config.regions].sort((a, b) => (latencies[a] ?? 0) - (latencies[b] ?? 0))[0] ?? "";
}

describe("latency routing through the local router", () => {
  const theCloud = useCloud(0.05);

  it.each(Object.keys(config.localClientLatencyMs))("routes a client in %s to its nearest region", async (location) => {
    // Act
    const response = await request(theCloud().routerUrl, {
      path: "/v1/calculations",
      location,
      clientId: `routing-${location}`,
      body: { operation: "add", operands: ["0.1", "0.2"] },
    });

    // Assess
    expect(response.status).toBe(201);
    expect(response.region).toBe(nearest(location));
    expect(response.body.servedBy).toBe(nearest(location));
    expect(response.body.region).toBe(nearest(location));
  });

  it("routes a client without a location header as the stack's default location", async () => {
    const response = await request(theCloud().routerUrl, { path: "/health", clientId: "no-location" });

    expect(response.status).toBe(200);
    expect(response.region).toBe(nearest(config.localDefaultClientLocation));
  });

  it("answers a repeat query from the client's resolver cache", async () => {
    await request(theCloud().routerUrl, { path: "/health", location: "us", clientId: "cache-probe" });

    const again = await request(theCloud().routerUrl, { path: "/health", location: "us", clientId: "cache-probe" });

    expect(again.route).toBe("cached");
    expect(again.region).toBe(nearest("us"));
  });

  it.each(config.regions)("reaches %s by its regional name whatever the location", async (region) => {
    const response = await request(theCloud().routerUrl, { path: "/health", location: "us", targetRegion: region });

    expect(response.status).toBe(200);
    expect(response.region).toBe(region);
    expect(response.body.region).toBe(region);
  });

  it("refuses an unknown client location with a problem naming the known ones", async () => {
    const response = await request(theCloud().routerUrl, { path: "/health", location: "mars" });

    expect(response.status).toBe(400);
    expect(response.body.type).toBe("urn:calcburst:problem:unknown-client-location");
    expect(String(response.body.detail)).toContain(Object.keys(config.localClientLatencyMs).join(", "));
  });

  it("refuses a body over API Gateway's 10 MB limit without holding it", async () => {
    const response = await fetch(`${theCloud().routerUrl}/v1/calculations`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-client-location": "us" },
      body: Buffer.alloc(10 * 1024 * 1024 + 1, 0x20),
    });

    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ message: "Request Entity Too Large" });
  });

  it("lists both regions, their PIDs and ports in .local/state.json", () => {
    const state = theCloud().state();

    expect(Object.keys(state.regions)).toEqual(config.regions);
    for (const region of Object.values(state.regions)) {
      expect(region.api.pid).toBeGreaterThan(0);
      expect(region.dynamodb.pid).toBeGreaterThan(0);
      expect(region.api.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(region.dynamodb.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    }
    expect(state.router.url).toBe(theCloud().routerUrl);
    expect(state.replicator.pid).toBeGreaterThan(0);
    expect(state.healthCheck).toEqual({ intervalMs: 500, failureThreshold: 3, timeoutMs: 2000 });
    expect(state.recordTtlMs).toBe(3000);
  });
});
