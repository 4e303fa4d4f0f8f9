import { describe, expect, it } from "vitest";
import type { Probe } from "../../shared/drill-report.js";
import { probeIntervalMs } from "../drill/local-target.js";
import { steadyState } from "../drill/run.js";

// A drill injects its fault only from a steady state: every region healthy, every location
// served by its preferred region. These check the rule on its own; drill.test.ts runs it.

const target = { locations: ["us", "eu"], preferredRegion: { us: "us-east-1", eu: "eu-west-1" } };
const healthy = { "us-east-1": true, "eu-west-1": true };

function answered(location: string, region: string | null, statuses: number[], fromMs = 0): Probe[] {
  return statuses.map((status, index) => ({
    sentMs: fromMs + index * 100,
    endedMs: fromMs + index * 100 + 20,
    location,
    status,
    region,
  }));
}

describe("the drill's steady state", () => {
  it("holds when each location's last five answers are successes from its preferred region", () => {
    // Prepare: an early failure, then five successes in a row.
    const probes = [
      ...answered("us", "us-east-1", [502, 201, 201, 201, 201, 201]),
      ...answered("eu", "eu-west-1", [201, 201, 201, 201, 201]),
    ];

    // Act
    const verdict = steadyState(probes, target, healthy);

    // Assess
    expect(verdict).toBeNull();
  });

  it("does not hold while a location has fewer than five answers", () => {
    // Prepare
    const probes = [...answered("us", "us-east-1", [201, 201, 201, 201, 201]), ...answered("eu", "eu-west-1", [201])];

    // Act
    const verdict = steadyState(probes, target, healthy);

    // Assess
    expect(verdict).toBe("eu has 1 answered requests of the 5 needed");
  });

  it("does not hold while one of the last answers failed, or came from another region", () => {
    // Prepare
    const failed = [
      ...answered("us", "us-east-1", [201, 201, 201, 503, 201]),
      ...answered("eu", "eu-west-1", [201, 201, 201, 201, 201]),
    ];
    const elsewhere = [
      ...answered("us", "us-east-1", [201, 201, 201, 201, 201]),
      ...answered("eu", "us-east-1", [201, 201, 201, 201, 201]),
    ];
    const unanswered = [
      ...answered("us", null, [0, 0, 0, 0, 0]),
      ...answered("eu", "eu-west-1", [201, 201, 201, 201, 201]),
    ];

    // Act
    const verdicts = [failed, elsewhere, unanswered].map((probes) => steadyState(probes, target, healthy));

    // Assess
    expect(verdicts).toEqual([
      "a request from us got HTTP 503 from us-east-1, not success from us-east-1",
      "a request from eu got HTTP 201 from us-east-1, not success from eu-west-1",
      "a request from us got no answer from no region, not success from us-east-1",
    ]);
  });

  it("does not hold while the health checks mark a region unhealthy", () => {
    // Prepare
    const probes = [
      ...answered("us", "us-east-1", [201, 201, 201, 201, 201]),
      ...answered("eu", "eu-west-1", [201, 201, 201, 201, 201]),
    ];

    // Act
    const verdict = steadyState(probes, target, { "us-east-1": true, "eu-west-1": false });

    // Assess
    expect(verdict).toBe("the health checks mark eu-west-1 unhealthy");
  });

  it("orders answers by when they came back, not by when they were sent", () => {
    // Prepare: the slow first request failed last.
    const probes = [
      { sentMs: 0, endedMs: 5000, location: "us", status: 503, region: "us-east-1" },
      ...answered("us", "us-east-1", [201, 201, 201, 201, 201], 100),
      ...answered("eu", "eu-west-1", [201, 201, 201, 201, 201]),
    ];

    // Act
    const verdict = steadyState(probes, target, healthy);

    // Assess
    expect(verdict).toBe("a request from us got HTTP 503 from us-east-1, not success from us-east-1");
  });
});

describe("the local drill's probe cadence", () => {
  it("probes every half health-check interval, at least once a second", () => {
    // Act
    const cadences = [100, 500, 2000, 10_000, 30_000].map(probeIntervalMs);

    // Assess: 500 ms is time scale 0.05's interval, 10 s and 30 s Route 53's own.
    expect(cadences).toEqual([50, 250, 1000, 1000, 1000]);
  });
});
