import { beforeAll, describe, expect, it } from "vitest";
import { readStackValues } from "../../shared/stack-file.js";
import type { ProgramRun } from "../mock-runtime.js";
import { assertRegion, ofType, PROGRAM_RUN_DEADLINE_MS, policyViolations, runProgram } from "./support/program.js";

const { values } = readStackValues("global3");
const REGIONS = values["calcburst:regions"] as string[];
const DOMAIN = values["calcburst:domain"] as string;

describe("the Pulumi program with the three regions of Pulumi.global3.yaml", () => {
  let run: ProgramRun;

  beforeAll(async () => {
    run = await runProgram(values, { stack: "global3" });
  }, PROGRAM_RUN_DEADLINE_MS);

  it.each(REGIONS)("deploys the whole regional service in %s", (region) => {
    assertRegion(run, region, DOMAIN, "global3");
  });

  it("replicates the table into both other regions, each with PITR", () => {
    const [table] = ofType(run, "aws:dynamodb/table:Table");

    expect(table?.inputs.region).toBe("us-east-1");
    expect(table?.inputs.replicas).toEqual([
      expect.objectContaining({ regionName: "eu-west-1", pointInTimeRecovery: true }),
      expect.objectContaining({ regionName: "ap-southeast-2", pointInTimeRecovery: true }),
    ]);
  });

  it("alarms on replication latency towards each of the other regions", () => {
    const replicationAlarms = ofType(run, "aws:cloudwatch/metricAlarm:MetricAlarm").filter((alarm) =>
      alarm.name.includes("-alarm-replication-"),
    );

    expect(replicationAlarms).toHaveLength(REGIONS.length * (REGIONS.length - 1));
  });

  it("registers six latency records, one A and one AAAA per region", () => {
    const latency = ofType(run, "aws:route53/record:Record").filter((record) => record.name.includes("-latency-"));

    expect(latency).toHaveLength(6);
  });

  it("gives every region its monitoring VPC and Prometheus, peered with the monitoring region", () => {
    expect(ofType(run, "calcburst:monitoring:RegionalMonitoring").map((component) => component.name)).toEqual(
      REGIONS.map((region) => `calcburst-${region}-monitoring`),
    );
    expect(ofType(run, "aws:ec2/vpc:Vpc").map((vpc) => [vpc.inputs.region, vpc.inputs.cidrBlock])).toEqual([
      ["us-east-1", "10.30.0.0/16"],
      ["eu-west-1", "10.31.0.0/16"],
      ["ap-southeast-2", "10.32.0.0/16"],
    ]);
    const peerings = ofType(run, "aws:ec2/vpcPeeringConnection:VpcPeeringConnection");
    expect(peerings.map((peering) => [peering.inputs.region, peering.inputs.peerRegion])).toEqual([
      ["us-east-1", "eu-west-1"],
      ["us-east-1", "ap-southeast-2"],
    ]);
    expect(ofType(run, "aws:ec2/instance:Instance")).toHaveLength(REGIONS.length + 1);
  });

  it("passes every policy of the policy pack", async () => {
    expect(await policyViolations(run.resources)).toEqual([]);
  });
});
