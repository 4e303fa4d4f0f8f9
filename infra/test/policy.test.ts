import { describe, expect, it } from "vitest";
import { capacityTags, policyViolations, craftedResource as resource } from "./support/program.js";

const rolePolicy = (statement: Record<string, unknown>) =>
  resource("aws:iam/rolePolicy:RolePolicy", "policy", {
    policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", ...statement }] }),
  });

const TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/calculations";
const goodTable = {
  pointInTimeRecovery: { enabled: true },
  serverSideEncryption: { enabled: false },
  replicas: [{ regionName: "eu-west-1", pointInTimeRecovery: true }],
};
const goodFunction = {
  architectures: ["arm64"],
  publish: true,
  // 100 requests a second within 250 ms: 25 concurrent executions.
  reservedConcurrentExecutions: 25,
  tags: capacityTags(100, 250),
  loggingConfig: { logGroup: "/calcburst/us-east-1/function" },
};
const goodInstance = {
  metadataOptions: { httpTokens: "required" },
  rootBlockDevice: { encrypted: true },
};
const openIngress = (fromPort: number, toPort: number, protocol = "tcp") => ({
  ingress: [{ protocol, fromPort, toPort, cidrBlocks: ["0.0.0.0/0"] }],
});
const retainedLogs = resource("aws:cloudwatch/logGroup:LogGroup", "logs", {
  name: "/calcburst/us-east-1/function",
  retentionInDays: 30,
});

describe("the policy pack", () => {
  it.each([
    ["a wildcard DynamoDB action", rolePolicy({ Action: "dynamodb:*", Resource: TABLE_ARN }), "no-dynamodb-wildcards"],
    ["a bare * action", rolePolicy({ Action: ["*"], Resource: TABLE_ARN }), "no-dynamodb-wildcards"],
    ["a wildcard table resource", rolePolicy({ Action: ["dynamodb:GetItem"], Resource: "*" }), "no-dynamodb-wildcards"],
    [
      "a wildcard in an inline role policy",
      resource("aws:iam/role:Role", "role", {
        inlinePolicies: [
          {
            name: "data",
            policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "dynamodb:Put*", Resource: TABLE_ARN }] }),
          },
        ],
      }),
      "no-dynamodb-wildcards",
    ],
    [
      "a replica without PITR",
      resource("aws:dynamodb/table:Table", "table", {
        ...goodTable,
        replicas: [{ regionName: "eu-west-1", pointInTimeRecovery: false }],
      }),
      "dynamodb-pitr-everywhere",
    ],
    [
      "a table without PITR",
      resource("aws:dynamodb/table:Table", "table", { ...goodTable, pointInTimeRecovery: { enabled: false } }),
      "dynamodb-pitr-everywhere",
    ],
    [
      "a table on the AWS-managed key by default",
      resource("aws:dynamodb/table:Table", "table", { ...goodTable, serverSideEncryption: { enabled: true } }),
      "dynamodb-encryption-key",
    ],
    [
      "a domain on TLS 1.0",
      resource("aws:apigatewayv2/domainName:DomainName", "domain", {
        domainNameConfiguration: { securityPolicy: "TLS_1_0" },
      }),
      "api-domain-tls-1-2",
    ],
    [
      "a latency record without a health check",
      resource("aws:route53/record:Record", "record", {
        setIdentifier: "us-east-1",
        latencyRoutingPolicies: [{ region: "us-east-1" }],
      }),
      "latency-records-health-checked",
    ],
    [
      "an x86_64 function",
      resource("aws:lambda/function:Function", "fn", { ...goodFunction, architectures: ["x86_64"] }),
      "lambda-arm64",
    ],
    [
      "a function logging to a group without retention",
      resource("aws:lambda/function:Function", "fn", { ...goodFunction, loggingConfig: { logGroup: "/elsewhere" } }),
      "lambda-log-retention",
    ],
    [
      "Prometheus open to the internet",
      resource("aws:ec2/securityGroup:SecurityGroup", "sg", openIngress(9090, 9090)),
      "no-public-monitoring-ports",
    ],
    [
      "Grafana inside a wide port range open to the internet",
      resource("aws:ec2/securityGroup:SecurityGroup", "sg", openIngress(1024, 9999)),
      "no-public-monitoring-ports",
    ],
    [
      "every protocol open to IPv6",
      resource("aws:ec2/securityGroup:SecurityGroup", "sg", {
        ingress: [{ protocol: "-1", fromPort: 0, toPort: 0, ipv6CidrBlocks: ["::/0"] }],
      }),
      "no-public-monitoring-ports",
    ],
    [
      "an ingress rule resource opening Alertmanager",
      resource("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "rule", {
        ipProtocol: "tcp",
        fromPort: 9093,
        toPort: 9093,
        cidrIpv4: "0.0.0.0/0",
      }),
      "no-public-monitoring-ports",
    ],
    [
      "an instance allowing IMDSv1",
      resource("aws:ec2/instance:Instance", "vm", { ...goodInstance, metadataOptions: { httpTokens: "optional" } }),
      "ec2-imdsv2",
    ],
    [
      "an instance with an unencrypted root volume",
      resource("aws:ec2/instance:Instance", "vm", { ...goodInstance, rootBlockDevice: { encrypted: false } }),
      "encrypted-volumes",
    ],
    [
      "an instance with an unencrypted block device",
      resource("aws:ec2/instance:Instance", "vm", {
        ...goodInstance,
        ebsBlockDevices: [{ deviceName: "/dev/sdf", encrypted: false }],
      }),
      "encrypted-volumes",
    ],
    ["an unencrypted data volume", resource("aws:ebs/volume:Volume", "data", { size: 20 }), "encrypted-volumes"],
  ])("reports %s", async (_what, violating, policy) => {
    const violations = await policyViolations([violating, retainedLogs]);

    expect(violations.length).toBeGreaterThan(0);
    expect(violations.every((violation) => violation.startsWith(`${policy}: `))).toBe(true);
  });

  it("passes resources that follow every rule", async () => {
    const compliant = [
      rolePolicy({ Action: ["dynamodb:PutItem", "dynamodb:GetItem"], Resource: TABLE_ARN }),
      rolePolicy({ Action: ["logs:PutLogEvents"], Resource: "arn:aws:logs:us-east-1:123456789012:log-group:x:*" }),
      resource("aws:dynamodb/table:Table", "table", goodTable),
      resource("aws:dynamodb/table:Table", "owned-by-default", { ...goodTable, serverSideEncryption: undefined }),
      resource("aws:dynamodb/table:Table", "customer-key", {
        ...goodTable,
        serverSideEncryption: { enabled: true, kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/calcburst" },
      }),
      resource("aws:apigatewayv2/domainName:DomainName", "domain", {
        domainNameConfiguration: { securityPolicy: "TLS_1_2" },
      }),
      resource("aws:route53/record:Record", "record", {
        setIdentifier: "us-east-1",
        latencyRoutingPolicies: [{ region: "us-east-1" }],
        healthCheckId: "hc-1",
      }),
      resource("aws:route53/record:Record", "plain", { type: "CNAME" }),
      resource("aws:lambda/function:Function", "fn", goodFunction),
      resource("aws:lambda/function:Function", "unreserved", { ...goodFunction, reservedConcurrentExecutions: -1 }),
      retainedLogs,
      // HTTPS open to the world is not a monitoring port; 9090 from a private block is fine.
      resource("aws:ec2/securityGroup:SecurityGroup", "web", openIngress(443, 443)),
      resource("aws:ec2/securityGroup:SecurityGroup", "prometheus", {
        ingress: [{ protocol: "tcp", fromPort: 9090, toPort: 9090, cidrBlocks: ["10.10.32.0/20"] }],
      }),
      resource("aws:ec2/instance:Instance", "vm", goodInstance),
      resource("aws:ebs/volume:Volume", "data", { size: 20, encrypted: true }),
    ];

    expect(await policyViolations(compliant)).toEqual([]);
  });
});
