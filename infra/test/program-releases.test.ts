import { beforeAll, describe, expect, it } from "vitest";
import { DEPLOYMENT_CONFIG, LIVE_ALIAS } from "../../shared/release.js";
import { readStackValues } from "../../shared/stack-file.js";
import type { ProgramRun } from "../mock-runtime.js";
import { RELEASE_WAVE_TAG } from "../policy/policies.js";
import { named, ofType, PROGRAM_RUN_DEADLINE_MS, runProgram } from "./support/program.js";

const { values } = readStackValues("global3");
const REGIONS = values["calcburst:regions"] as string[];

describe("the Pulumi program's release wiring (Pulumi.global3.yaml)", () => {
  let run: ProgramRun;

  beforeAll(async () => {
    run = await runProgram(values, { stack: "global3" });
  }, PROGRAM_RUN_DEADLINE_MS);

  it.each(REGIONS)("publishes versions and serves %s through a live alias that pulumi up leaves alone", (region) => {
    const fn = named(run, "aws:lambda/function:Function", `calcburst-${region}-function`);
    const alias = named(run, "aws:lambda/alias:Alias", `calcburst-${region}-live`);

    expect(fn.inputs.publish).toBe(true);
    expect(alias.inputs).toMatchObject({
      region,
      name: LIVE_ALIAS,
      functionName: `calcburst-global3-${region}`,
      functionVersion: fn.state.version,
    });
    expect(alias.options.ignoreChanges.sort()).toEqual(["functionVersion", "routingConfig"]);
  });

  it.each(REGIONS)("points %s's API at the alias, with the permission on the alias", (region) => {
    const alias = named(run, "aws:lambda/alias:Alias", `calcburst-${region}-live`);
    const integration = named(run, "aws:apigatewayv2/integration:Integration", `calcburst-${region}-integration`);
    const permission = named(run, "aws:lambda/permission:Permission", `calcburst-${region}-invoke-permission`);

    expect(integration.inputs.integrationUri).toBe(alias.state.invokeArn);
    expect(String(integration.inputs.integrationUri)).toContain(`:function:calcburst-global3-${region}:live/`);
    expect(permission.inputs).toMatchObject({ qualifier: LIVE_ALIAS, principal: "apigateway.amazonaws.com" });
    // The API switches to the alias only once the alias may be invoked.
    expect(integration.options.dependencies).toContain(permission.urn);
  });

  it.each(REGIONS)("gives %s a canary deployment group that rolls back on the region's own alarms", (region) => {
    const group = named(run, "aws:codedeploy/deploymentGroup:DeploymentGroup", `calcburst-${region}-deploy-group`);
    const application = named(run, "aws:codedeploy/application:Application", `calcburst-${region}-deploy-app`);
    const alarmNames = (suffixes: string[]) =>
      suffixes.map(
        (suffix) =>
          named(run, "aws:cloudwatch/metricAlarm:MetricAlarm", `calcburst-${region}-alarm-${suffix}`).state.name,
      );

    expect(application.inputs).toMatchObject({
      region,
      name: `calcburst-global3-${region}`,
      computePlatform: "Lambda",
    });
    expect(group.inputs).toMatchObject({
      region,
      appName: `calcburst-global3-${region}`,
      deploymentGroupName: `calcburst-global3-${region}-live`,
      deploymentConfigName: DEPLOYMENT_CONFIG,
      deploymentStyle: { deploymentType: "BLUE_GREEN", deploymentOption: "WITH_TRAFFIC_CONTROL" },
      autoRollbackConfiguration: { enabled: true, events: ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"] },
    });
    // Replication to a peer is not the release's doing: its alarms do not stop a canary.
    expect(group.inputs.alarmConfiguration).toEqual({
      enabled: true,
      alarms: alarmNames(["5xx-rate", "p99-latency", "throttles"]),
    });
    const role = named(run, "aws:iam/role:Role", `calcburst-${region}-deploy-role`);
    expect(JSON.parse(String(role.inputs.assumeRolePolicy)).Statement[0].Principal).toEqual({
      Service: "codedeploy.amazonaws.com",
    });
    const policy = JSON.parse(
      String(named(run, "aws:iam/rolePolicy:RolePolicy", `calcburst-${region}-deploy-policy`).inputs.policy),
    ) as { Statement: { Action: string[]; Resource: string | string[] }[] };
    const fnArn = named(run, "aws:lambda/function:Function", `calcburst-${region}-function`).state.arn;
    expect(policy.Statement[0]).toMatchObject({ Resource: [fnArn, `${fnArn}:*`] });
    expect(policy.Statement.flatMap((statement) => statement.Action)).not.toContain("lambda:InvokeFunction");
  });

  it("tags each region's deployment group with its wave: the first region alone, then the rest", () => {
    const waves = Object.fromEntries(
      ofType(run, "aws:codedeploy/deploymentGroup:DeploymentGroup").map((group) => [
        group.inputs.region,
        (group.inputs.tags as Record<string, string>)[RELEASE_WAVE_TAG],
      ]),
    );

    expect(waves).toEqual({ "us-east-1": "1", "eu-west-1": "2", "ap-southeast-2": "2" });
  });

  it("follows the waves a stack sets", async () => {
    const waved = await runProgram(
      { ...values, "calcburst:releaseWaves": [["eu-west-1"], ["ap-southeast-2"], ["us-east-1"]] },
      { stack: "global3" },
    );

    const waves = ofType(waved, "aws:codedeploy/deploymentGroup:DeploymentGroup").map(
      (group) => `${group.inputs.region} ${(group.inputs.tags as Record<string, string>)[RELEASE_WAVE_TAG]}`,
    );
    expect(waves.sort()).toEqual(["ap-southeast-2 2", "eu-west-1 1", "us-east-1 3"]);
  });

  it("refuses waves that leave a region out", async () => {
    await expect(
      runProgram({ ...values, "calcburst:releaseWaves": [["us-east-1"], ["eu-west-1"]] }, { stack: "global3" }),
    ).rejects.toThrow("releaseWaves leaves out ap-southeast-2");
  });
});
