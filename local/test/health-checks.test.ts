import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { HealthChecks } from "../router/health-checks.js";
import { eventually } from "./support/cloud.js";

describe("Route 53 health-check semantics", () => {
  let server: Server | undefined;
  let checks: HealthChecks | undefined;

  afterEach(async () => {
    checks?.stop();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  /** A region whose /health answers `state.status`, or first the statuses queued in `state.next`. */
  async function regionAnswering(state: { status: number; hang: boolean; next?: number[] }): Promise<string> {
    server = createServer((_request, response) => {
      if (state.hang) return;
      response.writeHead(state.next?.shift() ?? state.status).end();
    });
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  function check(url: string, changes: string[]) {
    checks = new HealthChecks({
      regions: [{ region: "us-east-1", url: () => url }],
      intervalMs: 25,
      failureThreshold: 3,
      timeoutMs: 100,
      reachable: () => true,
      onChange: (_region, healthy, detail) => changes.push(`${healthy ? "healthy" : "unhealthy"}: ${detail}`),
    });
    checks.start();
    return checks;
  }

  it("turns unhealthy after the threshold of failures in a row, and healthy after as many passes", async () => {
    // Prepare
    const state = { status: 200, hang: false };
    const changes: string[] = [];
    const health = check(await regionAnswering(state), changes);
    await eventually("a first check", async () => ((health.status()[0]?.checks ?? 0) > 0 ? true : undefined), 2000);

    // Act: the count is read before the change, so a check in flight across it (answered 503,
    // counted a moment later on a busy machine) is among the failures counted.
    const failedAtCheck = health.status()[0]?.checks ?? 0;
    state.status = 503;
    await eventually("unhealthy", async () => (health.isHealthy("us-east-1") ? undefined : true), 2000, 5);
    const unhealthyAtCheck = health.status()[0]?.checks ?? 0;
    state.status = 200;
    await eventually("healthy again", async () => (health.isHealthy("us-east-1") ? true : undefined), 2000, 5);

    // Assess
    expect(unhealthyAtCheck - failedAtCheck).toBeGreaterThanOrEqual(3);
    expect(changes).toEqual(["unhealthy: HTTP 503", "healthy: HTTP 200"]);
  });

  it("counts an answer slower than the timeout as a failure", async () => {
    const state = { status: 200, hang: true };
    const changes: string[] = [];
    const health = check(await regionAnswering(state), changes);

    await eventually("unhealthy", async () => (health.isHealthy("us-east-1") ? undefined : true), 3000, 5);

    expect(changes).toEqual(["unhealthy: no answer within 100 ms"]);
  });

  it("stays healthy through fewer failures than the threshold", async () => {
    const health = check(await regionAnswering({ status: 200, hang: false, next: [503, 503] }), []);

    await eventually("five checks", async () => ((health.status()[0]?.checks ?? 0) >= 5 ? true : undefined), 2000, 5);

    expect(health.status()[0]?.changedAt ?? null).toBeNull();
    expect(health.isHealthy("us-east-1")).toBe(true);
  });

  it("sends a region's next check only once the previous one has answered, when answers take longer than the interval", async () => {
    // Prepare: answers take 4 intervals; the checks' timeout is longer still, as in a time-scaled cloud.
    let inFlight = 0;
    let mostInFlight = 0;
    const answered: number[] = [];
    let sent = 0;
    server = createServer((_request, response) => {
      const sequence = ++sent;
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      setTimeout(() => {
        inFlight -= 1;
        answered.push(sequence);
        response.writeHead(200).end();
      }, 100);
    });
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    checks = new HealthChecks({
      regions: [{ region: "us-east-1", url: () => url }],
      intervalMs: 25,
      failureThreshold: 3,
      timeoutMs: 1000,
      reachable: () => true,
    });

    // Act
    checks.start();
    const health = checks;
    await eventually("five checks", async () => ((health.status()[0]?.checks ?? 0) >= 5 ? true : undefined), 10_000);

    // Assess: never two at once, so answers come back in the order the checks were sent.
    expect(mostInFlight).toBe(1);
    expect(answered.slice(0, 5)).toEqual([1, 2, 3, 4, 5]);
    expect(health.isHealthy("us-east-1")).toBe(true);
  });
});
