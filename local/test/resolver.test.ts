import { describe, expect, it } from "vitest";
import { LatencyResolver } from "../router/resolver.js";

const LATENCY = {
  us: { "us-east-1": 12, "eu-west-1": 78 },
  eu: { "us-east-1": 80, "eu-west-1": 9 },
};

function resolverAt(healthy: Set<string>, clock: { now: number }) {
  return new LatencyResolver({
    regions: ["us-east-1", "eu-west-1"],
    latencyMs: LATENCY,
    ttlMs: 60_000,
    isHealthy: (region) => healthy.has(region),
    nowMs: () => clock.now,
  });
}

describe("latency resolution with a resolver cache", () => {
  it("answers the nearest healthy region for each location", () => {
    const resolver = resolverAt(new Set(["us-east-1", "eu-west-1"]), { now: 0 });

    expect(resolver.routingTable()).toEqual({ us: "us-east-1", eu: "eu-west-1" });
  });

  it("skips an unhealthy region", () => {
    const resolver = resolverAt(new Set(["eu-west-1"]), { now: 0 });

    expect(resolver.resolve("client", "us")).toMatchObject({ region: "eu-west-1", source: "latency" });
  });

  it("answers as if every region were healthy when none is (Route 53 fails open)", () => {
    const resolver = resolverAt(new Set(), { now: 0 });

    expect(resolver.resolve("client", "us")).toMatchObject({ region: "us-east-1", source: "fail-open" });
  });

  it("keeps a client on its cached region until the TTL passes, even after that region fails", () => {
    // Prepare
    const healthy = new Set(["us-east-1", "eu-west-1"]);
    const clock = { now: 0 };
    const resolver = resolverAt(healthy, clock);
    resolver.resolve("client", "us");

    // Act
    healthy.delete("us-east-1");
    clock.now = 59_999;
    const beforeExpiry = resolver.resolve("client", "us");
    clock.now = 60_000;
    const afterExpiry = resolver.resolve("client", "us");

    // Assess
    expect(beforeExpiry).toMatchObject({ region: "us-east-1", source: "cached" });
    expect(afterExpiry).toMatchObject({ region: "eu-west-1", source: "latency" });
    expect(resolver.cachedClients()).toEqual({ "eu-west-1": 1 });
  });
});
