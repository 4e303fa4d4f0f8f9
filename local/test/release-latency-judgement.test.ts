import { describe, expect, it } from "vitest";
import {
  chargedRatio,
  describeReading,
  latencyExcuse,
  type VersionReading,
  WARM_UP_SLOW_REQUESTS,
} from "../release/watch.js";

// The local release's latency judgement (local/release/watch.ts): a new instance's first requests
// are slow by design, so latency waits for enough requests per cold start; and every region and
// version of the local cloud shares one machine, so a candidate is charged only the latency burn
// it adds above what the rest of the cloud served over the same window.

/** The latency SLO's 1% budget and the fast-burn page's 14.4×, as monitoring/slo.ts has them. */
const RULE = { budget: 0.01, burnRate: 14.4, window: "15s" };

describe("the local release's latency judgement", () => {
  it("excuses a candidate that is as slow as everything the machine served beside it", () => {
    // Prepare: 17.8% of the candidate's requests slow (the 2026-12-02 CI run), 12% of the rest.
    const control = { bad: 24, total: 200 };

    // Act
    const excuse = latencyExcuse({ ...RULE, candidate: 0.178, control, baselineLong: 0.002 });

    // Assess
    expect(excuse).toMatch(/the rest of the cloud was 12\.0% slow over the same 15s \(200 requests\)/);
    expect(excuse).toContain("the candidate adds 5.8× ≤ 14.4×");
  });

  it("charges a candidate that is slow while the rest of the cloud is fast", () => {
    // Prepare: a version slow in its own code; the previous version's long window is calm.
    const control = { bad: 2, total: 200 };

    // Act
    const excuse = latencyExcuse({ ...RULE, candidate: 0.6, control, baselineLong: 0.01 });

    // Assess
    expect(excuse).toBeUndefined();
  });

  it("charges a slow candidate even when the previous version's long window was burning, if the rest is fast now", () => {
    // Prepare
    const control = { bad: 1, total: 100 };

    // Act
    const excuse = latencyExcuse({ ...RULE, candidate: 0.5, control, baselineLong: 0.3 });

    // Assess
    expect(excuse).toBeUndefined();
  });

  it("falls back to the previous version's long window when the rest of the cloud served too few requests", () => {
    // Prepare: 19 requests beside the candidate, one short of the 20 latency needs.
    const control = { bad: 19, total: 19 };

    // Act
    const burning = latencyExcuse({ ...RULE, candidate: 0.5, control, baselineLong: 0.2 });
    const calm = latencyExcuse({ ...RULE, candidate: 0.5, control, baselineLong: 0.05 });
    const none = latencyExcuse({ ...RULE, candidate: 0.5, control, baselineLong: null });

    // Assess
    expect(burning).toBe("Latency burning in the previous version too (20.0% slow): not the release's");
    expect(calm).toBeUndefined();
    expect(none).toBeUndefined();
  });

  it("forgives each new instance its warm-up, not a version that is slow on every request", () => {
    // Prepare: the bake that rolled a good release back (about 5 slow of 21, four instances
    // started), and a version 400 ms slow in its own code in the same window.
    const allowance = WARM_UP_SLOW_REQUESTS * 4;

    // Act
    const good = chargedRatio({ bad: 4.7, total: 21 }, allowance);
    const slow = chargedRatio({ bad: 43, total: 43 }, allowance);

    // Assess
    expect(good).toBe(0);
    expect(slow).toBeCloseTo(31 / 43, 5);
    expect(chargedRatio({ bad: 3, total: 0 }, 0)).toBeNull();
  });

  it("says how much warm-up it forgave", () => {
    // Prepare
    const reading: VersionReading = {
      region: "us-east-1",
      version: "2",
      requests: 21,
      instancesStarted: 4,
      readings: [
        { slo: "Availability", ratio: 0, longRatio: 0, breaches: [] },
        { slo: "Latency", ratio: 0.05, longRatio: 0.04, breaches: [] },
      ],
      breaches: [],
    };

    // Act
    const line = describeReading(reading);

    // Assess
    expect(line).toBe("21 requests: errors 0.0%, slow 5.0% (4 new instances: 12 slow allowed for warm-up)");
  });
});
