import { describe, expect, it } from "vitest";
import { ControlPlane, REGIONS, releaseAgainst } from "./support/aws-control-plane.js";

describe("a release on AWS that goes wrong", () => {
  it("stops at a canary whose alarm fires and rolls back every region it touched, earlier waves included", async () => {
    // Prepare
    const plane = new ControlPlane(REGIONS);
    const europe = plane.regions["eu-west-1"];
    if (europe) europe.badCanary = true;

    // Act
    const report = await releaseAgainst(plane);

    // Assess
    expect(report.outcome).toBe("rolled-back");
    expect(plane.serving()).toEqual({ "us-east-1": "1", "eu-west-1": "1", "ap-southeast-2": "1" });
    expect(report.finalVersions).toEqual({ "us-east-1": "1", "eu-west-1": "1", "ap-southeast-2": "1" });
    const decisions = Object.fromEntries(report.regions.map((region) => [region.region, region.decision]));
    expect(decisions).toEqual({ "us-east-1": "rolled-back", "eu-west-1": "failed", "ap-southeast-2": "failed" });
    expect(report.regions.find((region) => region.region === "eu-west-1")?.reason).toContain("ALARM");
    expect(report.waves.map((wave) => wave.decision)).toEqual(["rolled-back", "failed"]);
    expect(report.exposedRegions.sort()).toEqual([...REGIONS].sort());
  });

  it("rolls back the first wave when its alarm fires while it bakes, and never starts the second", async () => {
    const plane = new ControlPlane(REGIONS);
    const first = plane.regions["us-east-1"];
    if (first) first.alarmAfterPromotion = 3;

    const report = await releaseAgainst(plane);

    expect(report.outcome).toBe("rolled-back");
    expect(report.exposedRegions).toEqual(["us-east-1"]);
    expect(report.regions[0]).toMatchObject({ region: "us-east-1", decision: "failed", finalVersion: "1" });
    expect(report.regions[0]?.reason).toContain("us-east-1-5xx-rate fired while baking");
    expect(report.waves.map((wave) => wave.decision)).toEqual(["failed", "not-started"]);
    expect(plane.calls.filter((call) => call.endsWith("CreateDeployment"))).toEqual(["us-east-1 CreateDeployment"]);
    expect(plane.serving()["us-east-1"]).toBe("1");
  });
});
