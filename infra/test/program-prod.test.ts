import { beforeAll, describe, expect, it } from "vitest";
import { readStackValues } from "../../shared/stack-file.js";
import type { ProgramRun } from "../mock-runtime.js";
import {
  assertRegion,
  named,
  ofType,
  PROGRAM_RUN_DEADLINE_MS,
  policyViolations,
  runProgram,
} from "./support/program.js";

const { values } = readStackValues("prod");
const REGIONS = values["calcburst:regions"] as string[];
const DOMAIN = values["calcburst:domain"] as string;

describe("the Pulumi program with Pulumi.prod.yaml", () => {
  let run: ProgramRun;

  beforeAll(async () => {
    run = await runProgram(values);
  }, PROGRAM_RUN_DEADLINE_MS);

  it.each(REGIONS)("deploys the whole regional service in %s", (region) => {
    assertRegion(run, region, DOMAIN);
  });

  it("creates one global table in the home region with a PITR replica in every other region", () => {
    const tables = ofType(run, "aws:dynamodb/table:Table");

    expect(tables).toHaveLength(1);
    expect(tables[0]?.inputs).toMatchObject({
      region: REGIONS[0],
      hashKey: "id",
      billingMode: "PAY_PER_REQUEST",
      streamEnabled: true,
      streamViewType: "NEW_AND_OLD_IMAGES",
      ttl: { attributeName: "expiresAt", enabled: true },
      // The AWS-owned key, which costs nothing; `true` would pick the AWS-managed one.
      serverSideEncryption: { enabled: false },
      pointInTimeRecovery: { enabled: true },
      deletionProtectionEnabled: true,
      replicas: REGIONS.slice(1).map((regionName) => ({
        regionName,
        pointInTimeRecovery: true,
        propagateTags: true,
        deletionProtectionEnabled: true,
      })),
    });
  });

  it("follows the component contract: type tokens, names under the component's name", () => {
    const components = run.resources.filter((resource) => !resource.custom);

    expect(components.map((component) => component.type).sort()).toEqual(
      [
        "calcburst:data:GlobalTable",
        "calcburst:routing:LatencyRouting",
        "calcburst:routing:ApiCertificates",
        "calcburst:monitoring:GlobalMonitoring",
        ...REGIONS.map(() => "calcburst:service:RegionalService"),
        ...REGIONS.map(() => "calcburst:monitoring:RegionalMonitoring"),
      ].sort(),
    );
    const custom = run.resources.filter((resource) => resource.custom);
    for (const resource of custom) {
      expect(
        components.some((component) => resource.name.startsWith(`${component.name}-`)),
        resource.name,
      ).toBe(true);
    }
  });

  it("exports the URLs, the table, the health checks, the monitoring instance and the alert topic", () => {
    expect(run.outputs).toEqual({
      globalUrl: `https://api.${DOMAIN}`,
      regionalUrls: Object.fromEntries(REGIONS.map((region) => [region, `https://${region}.api.${DOMAIN}`])),
      tableName: named(run, "aws:dynamodb/table:Table", "calculations-table").state.name,
      healthCheckIds: Object.fromEntries(REGIONS.map((region) => [region, `api-${region}-health-check-id`])),
      monitoringInstanceId: "calcburst-global-monitoring-instance-id",
      alertTopicArn: named(run, "aws:sns/topic:Topic", "calcburst-global-monitoring-alerts").state.arn,
    });
  });

  it("passes every policy of the policy pack", async () => {
    expect(await policyViolations(run.resources)).toEqual([]);
  });
});
