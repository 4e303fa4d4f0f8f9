import { describe, expect, it } from "vitest";
import { awsError, ControlPlane, REGIONS, releaseAgainst } from "./support/aws-control-plane.js";

const throttled = () => awsError("ThrottlingException", 400, "Rate exceeded");
const denied = () => awsError("AccessDeniedException", 403, "not authorized to perform codedeploy:CreateDeployment");

describe("a release on AWS when a region's control plane fails", () => {
  it("rides out throttling in one region without failing the release", async () => {
    // Prepare
    const plane = new ControlPlane(REGIONS);
    plane.fail("eu-west-1", "GetDeployment", throttled(), 3);
    plane.fail("ap-southeast-2", "CreateDeployment", awsError("InternalFailure", 500), 2);

    // Act
    const report = await releaseAgainst(plane);

    // Assess
    expect(report.outcome).toBe("promoted");
    expect(plane.serving()).toEqual({ "us-east-1": "2", "eu-west-1": "2", "ap-southeast-2": "2" });
  });

  it("rolls back the regions it touched when one region refuses the deployment, without waiting on that region", async () => {
    const plane = new ControlPlane(REGIONS);
    plane.fail("ap-southeast-2", "CreateDeployment", denied());

    const report = await releaseAgainst(plane);

    expect(report.outcome).toBe("rolled-back");
    expect(plane.serving()).toEqual({ "us-east-1": "1", "eu-west-1": "1", "ap-southeast-2": "1" });
    const sydney = report.regions.find((region) => region.region === "ap-southeast-2");
    expect(sydney?.decision).toBe("failed");
    expect(sydney?.reason).toContain(
      "CreateDeployment in ap-southeast-2 failed after 1 attempt(s): AccessDeniedException",
    );
    expect(report.exposedRegions.sort()).toEqual(["eu-west-1", "us-east-1"]);
    // eu-west-1's canary was stopped, not left to run its ten minutes.
    expect(plane.calls).toContain("eu-west-1 StopDeployment");
  });

  it("rolls back every other region when one region's rollback cannot reach AWS, and names that region", async () => {
    const plane = new ControlPlane(REGIONS);
    const europe = plane.regions["eu-west-1"];
    if (europe) europe.badCanary = true;
    plane.fail("us-east-1", "UpdateAlias", awsError("ServiceUnavailableException", 503));

    const report = await releaseAgainst(plane);

    expect(report.outcome).toBe("rolled-back");
    const decisions = Object.fromEntries(report.regions.map((region) => [region.region, region.decision]));
    expect(decisions).toEqual({ "us-east-1": "rollback-failed", "eu-west-1": "failed", "ap-southeast-2": "failed" });
    expect(report.regions[0]?.reason).toContain(
      "the rollback failed: UpdateAlias in us-east-1 failed after 5 attempt(s)",
    );
    expect(plane.serving()).toEqual({ "us-east-1": "2", "eu-west-1": "1", "ap-southeast-2": "1" });
    expect(report.finalVersions["us-east-1"]).toBe("2");
  });

  it("counts a region whose alarms cannot be read through the bake as not seen healthy", async () => {
    const plane = new ControlPlane(REGIONS);
    plane.fail("us-east-1", "DescribeAlarms", denied());

    const report = await releaseAgainst(plane);

    expect(report.outcome).toBe("rolled-back");
    expect(report.regions[0]?.reason).toContain("its alarms could not be read at the end of the bake");
    expect(plane.serving()["us-east-1"]).toBe("1");
    expect(report.waves.map((wave) => wave.decision)).toEqual(["failed", "not-started"]);
  });
});
