import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { readStackValues } from "../../shared/stack-file.js";

/**
 * What a harness written from the Pulumi docs alone does: state = inputs, nothing computed
 * faked, and only the three lookups the program makes answered (with the least they could
 * return). The program must still run and register the whole topology.
 */
describe("the Pulumi program under a harness that fakes nothing", () => {
  it("registers the full two-region topology from Pulumi.prod.yaml", async () => {
    // Prepare
    const registered: { type: string; inputs: Record<string, unknown> }[] = [];
    const { values } = readStackValues("prod");
    pulumi.runtime.setAllConfig(
      Object.fromEntries(
        Object.entries({ ...values, "calcburst:grafanaAdminPassword": "bare" }).map(([key, value]) => [
          key,
          typeof value === "string" ? value : JSON.stringify(value),
        ]),
      ),
    );
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          registered.push({ type: args.type, inputs: args.inputs });
          return { id: `${args.name}_id`, state: args.inputs };
        },
        call: (args) => {
          if (args.token === "aws:ec2/getAmi:getAmi") return { id: "ami-0" };
          if (args.token === "aws:index/getAvailabilityZones:getAvailabilityZones")
            return { names: ["zone-a", "zone-b"] };
          if (args.token === "aws:servicequotas/getServiceQuota:getServiceQuota") return { value: 1000 };
          throw new Error(`unmocked call ${args.token}`);
        },
      },
      "calcburst",
      "prod",
      false,
    );

    // Act
    const program = await import("../index.js");
    await new Promise((resolve) => program.tableName.apply(resolve));
    for (let turn = 0; turn < 50; turn++) await new Promise((resolve) => setImmediate(resolve));

    // Assess
    const count = (type: string) => registered.filter((resource) => resource.type === type).length;
    expect(count("aws:lambda/function:Function")).toBe(2);
    // A role per function, per region's CodeDeploy, per regional Prometheus, and the global monitoring instance's.
    expect(count("aws:iam/role:Role")).toBe(7);
    expect(count("aws:lambda/alias:Alias")).toBe(2);
    expect(count("aws:apigatewayv2/api:Api")).toBe(2);
    expect(count("aws:apigatewayv2/stage:Stage")).toBe(2);
    expect(count("aws:acm/certificate:Certificate")).toBe(2);
    expect(count("aws:acm/certificateValidation:CertificateValidation")).toBe(2);
    expect(count("aws:apigatewayv2/domainName:DomainName")).toBe(4);
    expect(count("aws:apigatewayv2/apiMapping:ApiMapping")).toBe(4);
    expect(count("aws:route53/healthCheck:HealthCheck")).toBe(2);
    const latency = registered.filter(
      (resource) => resource.type === "aws:route53/record:Record" && resource.inputs.setIdentifier !== undefined,
    );
    expect(latency.map((record) => `${record.inputs.setIdentifier} ${record.inputs.type}`).sort()).toEqual([
      "eu-west-1 A",
      "eu-west-1 AAAA",
      "us-east-1 A",
      "us-east-1 AAAA",
    ]);
    expect(count("aws:cloudwatch/metricAlarm:MetricAlarm")).toBe(8);
    expect(count("aws:ec2/vpc:Vpc")).toBe(2);
    expect(count("aws:ec2/instance:Instance")).toBe(3);
    expect(count("aws:ec2/vpcPeeringConnection:VpcPeeringConnection")).toBe(1);
    const [table] = registered.filter((resource) => resource.type === "aws:dynamodb/table:Table");
    expect(table?.inputs.replicas).toEqual([
      expect.objectContaining({ regionName: "eu-west-1", pointInTimeRecovery: true }),
    ]);
  });
});
