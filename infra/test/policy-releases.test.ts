import { describe, expect, it } from "vitest";
import type { RecordedResource } from "../mock-runtime.js";
import { RELEASE_WAVE_TAG } from "../policy/policies.js";
import { capacityTags, policyViolations, craftedResource as resource } from "./support/program.js";

const POLICY = "releases-through-the-live-alias";

const fn = resource("aws:lambda/function:Function", "fn", {
  architectures: ["arm64"],
  publish: true,
  tags: capacityTags(100, 250),
  loggingConfig: { logGroup: "/calcburst/us-east-1/function" },
});
const logs = resource("aws:cloudwatch/logGroup:LogGroup", "logs", {
  name: "/calcburst/us-east-1/function",
  retentionInDays: 30,
});
const alias = resource(
  "aws:lambda/alias:Alias",
  "live",
  { name: "live" },
  { ignoreChanges: ["functionVersion", "routingConfig"] },
);
const integrationOn = (target: RecordedResource) =>
  resource(
    "aws:apigatewayv2/integration:Integration",
    "integration",
    { integrationType: "AWS_PROXY" },
    { propertyDependencies: { integrationUri: [target.urn] } },
  );
const group = (name: string, props: Record<string, unknown> = {}) =>
  resource("aws:codedeploy/deploymentGroup:DeploymentGroup", name, {
    alarmConfiguration: { enabled: true, alarms: ["calcburst-us-east-1-alarm-5xx-rate-1a2b"] },
    autoRollbackConfiguration: { enabled: true, events: ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"] },
    tags: { [RELEASE_WAVE_TAG]: "1" },
    ...props,
  });

const COMPLIANT = [fn, logs, alias, integrationOn(alias), group("first")];

/** The release policy's violations once `replace` stands in for the compliant resource of its name. */
async function violationsWith(...replacements: RecordedResource[]): Promise<string[]> {
  const resources = COMPLIANT.map(
    (compliant) => replacements.find((replacement) => replacement.name === compliant.name) ?? compliant,
  );
  const extra = replacements.filter(
    (replacement) => !COMPLIANT.some((compliant) => compliant.name === replacement.name),
  );
  return (await policyViolations([...resources, ...extra])).filter((violation) => violation.startsWith(`${POLICY}: `));
}

describe("the policy pack on releases", () => {
  it("passes a function released through a live alias by a deployment group that rolls back", async () => {
    expect(await policyViolations(COMPLIANT)).toEqual([]);
  });

  it.each([
    [
      "a function that publishes no versions",
      resource("aws:lambda/function:Function", "fn", { ...fn.inputs, publish: false }),
      "publish is not true",
    ],
    [
      "an alias pulumi up would move",
      resource("aws:lambda/alias:Alias", "live", { name: "live" }, { ignoreChanges: ["functionVersion"] }),
      "ignoreChanges lacks routingConfig",
    ],
    ["an integration that invokes $LATEST", integrationOn(fn), "integrationUri is the function itself ($LATEST)"],
    [
      "a deployment group that watches no alarm",
      group("first", { alarmConfiguration: { enabled: false, alarms: ["a"] } }),
      "no alarms enabled",
    ],
    [
      "a deployment group that does not roll back on an alarm",
      group("first", { autoRollbackConfiguration: { enabled: true, events: ["DEPLOYMENT_FAILURE"] } }),
      "automatic rollback on DEPLOYMENT_STOP_ON_ALARM is off",
    ],
    ["a deployment group in no wave", group("first", { tags: {} }), `tag it with ${RELEASE_WAVE_TAG}`],
  ])("reports %s", async (_what, violating, message) => {
    const violations = await violationsWith(violating);

    expect(violations).toHaveLength(1);
    expect(violations[0]).toContain(message);
  });

  it("reports a wave that holds no region", async () => {
    const third = group("third", { tags: { [RELEASE_WAVE_TAG]: "3" } });

    expect(await violationsWith(third)).toEqual([
      `${POLICY}: release wave 2 holds no region: waves run 1, 2, … without a gap`,
    ]);
  });
});
