import { describe, expect, it } from "vitest";
import { ControlPlane, REGIONS, releaseAgainst } from "./support/aws-control-plane.js";

describe("a release on AWS, wave by wave", () => {
  it("promotes the newest version in every region and reports it", async () => {
    // Prepare
    const plane = new ControlPlane(REGIONS);

    // Act
    const report = await releaseAgainst(plane);

    // Assess
    expect(report.outcome).toBe("promoted");
    expect(report.waves.map((wave) => [wave.regions, wave.decision])).toEqual([
      [["us-east-1"], "promoted"],
      [["eu-west-1", "ap-southeast-2"], "promoted"],
    ]);
    expect(report.finalVersions).toEqual({ "us-east-1": "2", "eu-west-1": "2", "ap-southeast-2": "2" });
    expect(plane.serving()).toEqual({ "us-east-1": "2", "eu-west-1": "2", "ap-southeast-2": "2" });
    expect(report.exposedRegions.sort()).toEqual([...REGIONS].sort());
    expect(report.regions.map((region) => [region.region, region.previousVersion, region.candidateVersion])).toEqual([
      ["us-east-1", "1", "2"],
      ["eu-west-1", "1", "2"],
      ["ap-southeast-2", "1", "2"],
    ]);
  });

  it("bakes the first wave, watching its alarms, before the second wave starts", async () => {
    const plane = new ControlPlane(REGIONS);

    await releaseAgainst(plane);

    const firstBake = plane.calls.indexOf("us-east-1 DescribeAlarms");
    const secondWave = plane.calls.findIndex(
      (call) => call.endsWith("CreateDeployment") && !call.startsWith("us-east-1"),
    );
    expect(firstBake).toBeGreaterThan(plane.calls.indexOf("us-east-1 CreateDeployment"));
    expect(secondWave).toBeGreaterThan(firstBake);
    // A five-minute bake read every 15 s: the alarms were read again and again, not once.
    expect(plane.calls.filter((call) => call === "us-east-1 DescribeAlarms").length).toBeGreaterThanOrEqual(20);
  });

  it("moves through CodeDeploy the versions it read from the alias and the function", async () => {
    const plane = new ControlPlane(REGIONS, { versions: ["1", "2", "3", "4"], alias: { version: "3", weights: {} } });

    const report = await releaseAgainst(plane);

    expect(
      [...plane.deployments.values()].map((deployment) => [deployment.region, deployment.from, deployment.to]),
    ).toEqual([
      ["us-east-1", "3", "4"],
      ["eu-west-1", "3", "4"],
      ["ap-southeast-2", "3", "4"],
    ]);
    expect(report.finalVersions["eu-west-1"]).toBe("4");
  });

  it("leaves a region that already serves the newest version alone", async () => {
    const plane = new ControlPlane(REGIONS);
    const europe = plane.regions["eu-west-1"];
    if (europe) europe.alias.version = "2";

    const report = await releaseAgainst(plane);

    expect(report.outcome).toBe("promoted");
    expect(report.regions.find((region) => region.region === "eu-west-1")?.decision).toBe("unchanged");
    expect(plane.calls).not.toContain("eu-west-1 CreateDeployment");
    expect(report.exposedRegions).not.toContain("eu-west-1");
  });

  it("refuses to start on an alias a deployment left split, and touches no other region's alias", async () => {
    const plane = new ControlPlane(REGIONS);
    const first = plane.regions["us-east-1"];
    if (first) first.alias.weights = { "2": 0.1 };

    const report = await releaseAgainst(plane);

    expect(report.outcome).toBe("rolled-back");
    expect(report.regions[0]?.reason).toContain("still sends part of its traffic to version 2");
    expect(report.waves.map((wave) => wave.decision)).toEqual(["failed", "not-started"]);
    expect(plane.calls.filter((call) => call.endsWith("CreateDeployment") || call.endsWith("UpdateAlias"))).toEqual([]);
  });
});
