import { describe, expect, it } from "vitest";
import { parseStackConfig, scaledMs } from "../stack-config.js";
import { listStacks, loadStack, readStackValues } from "../stack-file.js";
import { problemsOf } from "./support/problems.js";

const VALID = {
  "calcburst:regions": ["us-east-1", "eu-west-1", "ap-southeast-2"],
  "calcburst:domain": "example.com",
  "calcburst:hostedZoneId": "Z0123456789ABC",
  "calcburst:monitoringRegion": "eu-west-1",
  "calcburst:peakRequestsPerSecond": 500,
  "calcburst:alertEmail": "oncall@example.com",
  "calcburst:localDefaultClientLocation": "eu",
  "calcburst:localClientLatencyMs": {
    eu: { "us-east-1": 80, "eu-west-1": 9, "ap-southeast-2": 280 },
    ap: { "us-east-1": 200, "eu-west-1": 280, "ap-southeast-2": 8 },
  },
};

describe("stack config", () => {
  it("reads Pulumi.prod.yaml with the typed defaults of Pulumi.yaml", () => {
    const { stack, config } = loadStack("prod");

    expect(stack).toBe("prod");
    expect(config.regions).toEqual(["us-east-1", "eu-west-1"]);
    expect(config.healthCheckIntervalSeconds).toBe(10);
    expect(config.healthCheckFailureThreshold).toBe(3);
    expect(config.tableConsistency).toBe("MREC");
  });

  it("accepts three regions and fills in the defaults", () => {
    const config = parseStackConfig(VALID);

    expect(config.regions).toHaveLength(3);
    expect(config.lambdaTimeoutSeconds).toBe(10);
    expect(config.tableTtlDays).toBe(30);
  });

  it.each([
    [{ "calcburst:regions": ["us-east-1"] }, "regions must list at least two distinct AWS regions"],
    [{ "calcburst:regions": ["us-east-1", "us-east-1"] }, "regions must list at least two distinct AWS regions"],
    [{ "calcburst:regions": ["us-east-1", "Europe"] }, '"Europe" is not an AWS region name'],
    [{ "calcburst:healthCheckIntervalSeconds": 15 }, "healthCheckIntervalSeconds must be 10 or 30"],
    [{ "calcburst:healthCheckFailureThreshold": 11 }, "healthCheckFailureThreshold must be at most 10"],
    [{ "calcburst:lambdaTimeoutSeconds": 30 }, "an HTTP API integration times out at 30 s"],
    [{ "calcburst:monitoringRegion": "sa-east-1" }, "monitoringRegion sa-east-1 must be one of the regions"],
    [{ "calcburst:tableConsistency": "MRSC" }, "MRSC cannot be combined with the item TTL"],
    [{ "calcburst:domain": "Not A Domain" }, "domain must be a lower-case DNS name"],
    [{ "calcburst:alertEmail": undefined }, "alertEmail must be an e-mail address (who the alerts and alarms reach)"],
    [{ "calcburst:peakRequestsPerSecond": undefined }, "peakRequestsPerSecond must be a whole number"],
    [
      { "calcburst:recordTtlSeconds": 30 },
      "recordTtlSeconds is not a stack key: the latency records are aliases, which carry no TTL of their own",
    ],
  ])("refuses %j with a message that says why", (override, message) => {
    expect(problemsOf({ ...VALID, ...override }).join("\n")).toContain(message);
  });

  it("names the region a client location lacks a latency for", () => {
    const problems = problemsOf({
      ...VALID,
      "calcburst:localClientLatencyMs": { ...VALID["calcburst:localClientLatencyMs"], us: { "us-east-1": 10 } },
    });

    expect(problems).toContain(
      "localClientLatencyMs.us gives no latency for eu-west-1, ap-southeast-2: list every region",
    );
  });

  it("makes each region a client location of its own when the stack has no local keys", () => {
    const {
      "calcburst:localClientLatencyMs": _latency,
      "calcburst:localDefaultClientLocation": _location,
      ...awsOnly
    } = VALID;

    const config = parseStackConfig(awsOnly);

    expect(config.localClientLatencyMs["eu-west-1"]).toEqual({
      "us-east-1": 100,
      "eu-west-1": 10,
      "ap-southeast-2": 100,
    });
    expect(Object.keys(config.localClientLatencyMs)).toEqual(VALID["calcburst:regions"]);
    expect(config.localDefaultClientLocation).toBe("us-east-1");
  });

  it("names the stacks there are when one does not exist", () => {
    expect(() => loadStack("qa")).toThrow(
      /no stack file Pulumi\.qa\.yaml: the stacks here are global3, prod, staging, strong/,
    );
  });

  it.each(listStacks())(
    "pins the default provider's region in Pulumi.%s.yaml to one of the stack's regions",
    (stack) => {
      const { values } = readStackValues(stack);

      expect(values["calcburst:regions"]).toContain(values["aws:region"]);
    },
  );

  it("shrinks intervals by the time scale, never to zero", () => {
    expect(scaledMs(10, 0.05)).toBe(500);
    expect(scaledMs(60, 0.05)).toBe(3000);
    expect(scaledMs(1, 0.0001)).toBe(1);
  });

  it("gives each region a disjoint VPC block when the stack names none", () => {
    const config = parseStackConfig(VALID);

    expect(config.vpcCidrs).toEqual({
      "us-east-1": "10.10.0.0/16",
      "eu-west-1": "10.11.0.0/16",
      "ap-southeast-2": "10.12.0.0/16",
    });
    expect([config.availabilityObjective, config.latencyObjectiveMs, config.replicationLagAlertSeconds]).toEqual([
      0.9995, 250, 30,
    ]);
  });

  it("refuses overlapping VPC blocks, a region without one and a block that is not one", () => {
    const problems = problemsOf({
      ...VALID,
      "calcburst:vpcCidrs": {
        "us-east-1": "10.0.0.0/16",
        "eu-west-1": "10.0.128.0/17",
        "ap-southeast-2": "10.1.0.1/16",
      },
    });
    expect(problems).toEqual([
      'vpcCidrs.ap-southeast-2: "10.1.0.1/16" is not an IPv4 CIDR block such as 10.10.0.0/16',
      "vpcCidrs: us-east-1 (10.0.0.0/16) and eu-west-1 (10.0.128.0/17) overlap; peered VPCs need disjoint blocks",
    ]);
    expect(
      problemsOf({ ...VALID, "calcburst:vpcCidrs": { "us-east-1": "10.0.0.0/16", "eu-west-1": "10.0.128.0/17" } }),
    ).toEqual([
      "vpcCidrs gives no block for ap-southeast-2: list every region",
      "vpcCidrs: us-east-1 (10.0.0.0/16) and eu-west-1 (10.0.128.0/17) overlap; peered VPCs need disjoint blocks",
    ]);
  });

  it("refuses a latency objective that is not a bucket bound, and a 100% availability objective", () => {
    expect(problemsOf({ ...VALID, "calcburst:latencyObjectiveMs": 300, "calcburst:availabilityObjective": 1 })).toEqual(
      [
        "availabilityObjective must be below 1: a 100% objective leaves no error budget",
        "latencyObjectiveMs must be a bucket bound of the request-duration histogram: 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000",
      ],
    );
  });
});
