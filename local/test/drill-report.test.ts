import { describe, expect, it } from "vitest";
import { type FailoverReport, failoverSchema } from "../../shared/drill-report.js";
import { renderTable, renderTimeline } from "../drill/report.js";
import { overloadWarning } from "../process/readiness.js";

// A drill's table and timeline explain what happened: every region that was unhealthy, the
// scales of the picture, a legend for every colour, an x-axis fitted to the traffic, and a
// warning when the machine was too busy for the figures to mean much.

const START = Date.parse("2026-12-01T00:00:00.000Z");
const at = (ms: number) => new Date(START + ms).toISOString();

/** A failed api drill on us-east-1 whose survivor eu-west-1 was marked unhealthy for a while. */
function failedDrill(): FailoverReport {
  const probes = Array.from({ length: 200 }, (_, index) => {
    const sentMs = index * 100;
    const failing = sentMs >= 5000 && sentMs < 9000;
    return {
      sentMs,
      endedMs: sentMs + 20,
      location: index % 2 === 0 ? "us" : "eu",
      status: failing ? 503 : 201,
      region: failing
        ? null
        : sentMs >= 5000 && sentMs < 15_000
          ? "eu-west-1"
          : index % 2 === 0
            ? "us-east-1"
            : "eu-west-1",
    };
  });
  const report: FailoverReport = {
    schemaVersion: 2,
    kind: "failover",
    target: "local",
    stack: "prod",
    region: "us-east-1",
    mode: "api",
    entryPoint: "http://127.0.0.1:8080",
    locations: ["us", "eu"],
    preferredRegion: { us: "us-east-1", eu: "eu-west-1" },
    // The read-back after the traffic took 80 s: three times the drill.
    times: {
      startedAt: at(0),
      injectedAt: at(5000),
      detectedAt: at(6500),
      restoredAt: at(15_000),
      finishedAt: at(100_000),
    },
    budget: { detectionMs: 2000, ttlMs: 3000, slackMs: 1000, rtoMs: 6000 },
    measured: {
      detectionMs: 1500,
      rtoLastErrorMs: 3900,
      rtoAllServedMs: 4000,
      returnMs: 2000,
      requests: probes.length,
      failedRequests: 40,
      acknowledgedWrites: 160,
      rpoExposure: 0,
      rpoExposureIds: [],
      lostAcknowledgedWrites: 0,
      lostIds: [],
      outageWritesReplicatedBack: true,
      replicationLag: null,
      divergence: { scope: "table", compared: 160, divergentItems: 0, divergentIds: [], reason: null },
    },
    passed: false,
    failures: ["eu-west-1 was marked unhealthy during the drill too, though the fault was injected in us-east-1 only"],
    probes,
    timeline: null,
    unhealthy: [
      { region: "us-east-1", fromMs: 6500, toMs: 16_000 },
      { region: "eu-west-1", fromMs: 7000, toMs: 8800 },
    ],
    overloaded:
      "warning: the machine is overloaded (load average 5.2 on 2 cores): the figures below may not hold on an idle machine",
  };
  expect(failoverSchema.safeParse(report).success).toBe(true);
  return report;
}

describe("a drill's report", () => {
  it("names every region marked unhealthy, and says which one was not the injected region", () => {
    // Act
    const table = renderTable(failedDrill());

    // Assess
    expect(table).toMatch(
      /regions marked unhealthy\s+us-east-1 \(injected\) 6\.5 s–16\.0 s; eu-west-1 \(NOT the injected region\) 7\.0 s–8\.8 s/,
    );
    expect(table).toContain("FAILED: eu-west-1 was marked unhealthy during the drill too");
    expect(table).toMatch(/machine\s+warning: the machine is overloaded \(load average 5\.2 on 2 cores\)/);
  });

  it("draws the timeline with y scales, a legend entry for every colour and an x-axis that ends with the traffic", () => {
    // Act
    const svg = renderTimeline(failedDrill());

    // Assess: y scales on both bands.
    for (const label of [">0%<", ">50%<", ">100%<"]) expect(svg).toContain(label);
    // Every fill used in the plot (not the white page or the empty frames) has a legend entry.
    const legendFills = [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="12" height="12" fill="([^"]+)"/g)].map(
      (match) => match[1],
    );
    const plotFills = new Set(
      [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[\d.]+" fill="([^"]+)"/g)].map(
        (match) => match[1],
      ),
    );
    plotFills.delete("none");
    plotFills.delete("#fff");
    expect(plotFills.size).toBeGreaterThanOrEqual(4);
    for (const fill of plotFills) expect(legendFills, `legend for ${fill}`).toContain(fill);
    expect(svg).toContain("failed (share of the slice)");
    // The last tick is just past the last probe (19.9 s), not at the end of the read-back (100 s).
    const ticks = [...svg.matchAll(/>([\d.]+) s</g)].map((match) => Number(match[1]));
    expect(Math.max(...ticks)).toBeGreaterThanOrEqual(19.9);
    expect(Math.max(...ticks)).toBeLessThan(21);
    expect(svg).toContain("eu-west-1 unhealthy 7.0–8.8 s");
  });

  it("warns about an overloaded machine only when the load average is above the core count", () => {
    expect(overloadWarning(2.5, 2)).toBe(
      "warning: the machine is overloaded (load average 2.5 on 2 cores): the figures below may not hold on an idle machine",
    );
    expect(overloadWarning(2, 2)).toBeUndefined();
  });
});
