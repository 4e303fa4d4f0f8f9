import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { request, useCloud } from "./support/cloud.js";
import { burnCpu } from "./support/cpu-burner.js";
import { isRunning } from "./support/processes.js";

// A busy machine is not a failed region: with every core taken by spinning processes for 30 s,
// the router's health checks (time-scaled: every 500 ms) mark no region unhealthy, and clients
// keep being served.

const TIME_SCALE = 0.05;
const BURN_MS = 30_000;
/**
 * One spinner per core leaves the cloud's processes a fair share of the CPU, and the checks
 * passed with overlapping 1 s checks too. Three per core is closer to the whole suite running
 * on a 2-core CI machine (load average 12 measured here), and that failed them (a region
 * unhealthy within the 30 s).
 */
const SPINNERS_PER_CORE = 3;

const cloud = useCloud(TIME_SCALE);

describe("the local cloud on a busy machine", () => {
  it("marks no region unhealthy while every core is busy for 30 s", async () => {
    // Prepare
    const before = await cloud().status();
    const checksBefore = new Map(before.health.map((health) => [health.region, health.checks]));
    expect(before.health.every((health) => health.healthy)).toBe(true);
    const served: Record<string, number> = {};

    // Act: the burner runs while clients keep asking, one request at a time per location.
    const burner = burnCpu(availableParallelism() * SPINNERS_PER_CORE);
    try {
      const until = Date.now() + BURN_MS;
      while (Date.now() < until) {
        for (const location of ["us", "eu"]) {
          const response = await request(cloud().routerUrl, { path: "/health", location });
          if (response.status === 200) served[location] = (served[location] ?? 0) + 1;
        }
      }
    } finally {
      await burner.stop();
    }

    // Assess: the checks went on all along, and none failed a region.
    expect(burner.pids.filter(isRunning)).toEqual([]);
    expect(
      cloud()
        .output()
        .match(/router: .* is now unhealthy.*/g) ?? [],
    ).toEqual([]);
    const after = await cloud().status();
    for (const health of after.health) {
      expect(health, `${health.region}: ${JSON.stringify(health.lastCheck)}`).toMatchObject({
        healthy: true,
        changedAt: null,
      });
      expect(health.checks - (checksBefore.get(health.region) ?? 0)).toBeGreaterThan(10);
    }
    expect(served.us).toBeGreaterThan(0);
    expect(served.eu).toBeGreaterThan(0);
  }, 120_000);
});
