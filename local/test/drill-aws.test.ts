import { DeleteRolePolicyCommand, IAMClient, PutRolePolicyCommand } from "@aws-sdk/client-iam";
import {
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  UpdateAliasCommand,
  UpdateFunctionConfigurationCommand,
} from "@aws-sdk/client-lambda";
import { GetHealthCheckStatusCommand, ListHealthChecksCommand, Route53Client } from "@aws-sdk/client-route-53";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { loadStack } from "../../shared/stack-file.js";
import { type AwsClients, awsTarget, DATA_DRILL_POLICY } from "../drill/aws-target.js";

// The drill's AWS path against mocked AWS SDK clients: AWS cannot be reached from here, so these
// check the exact calls each mode makes and undoes, and how Route 53's view is read.

const { config } = loadStack("prod");
const FUNCTION = "calcburst-prod-eu-west-1";
const ROLE_ARN = "arn:aws:iam::123456789012:role/calcburst-eu-west-1-role-0a1b2c3";

const lambda = mockClient(LambdaClient);
const iam = mockClient(IAMClient);
const route53 = mockClient(Route53Client);
const clients: AwsClients = {
  lambda: () => new LambdaClient({ region: "eu-west-1" }),
  iam: new IAMClient({ region: "us-east-1" }),
  route53: new Route53Client({ region: "us-east-1" }),
};

/** What https://api.<domain>/health answers when eu-west-1 serves this machine. */
const served: typeof fetch = async () =>
  new Response('{"status":"pass"}', { status: 200, headers: { "x-calcburst-region": "eu-west-1" } });

beforeEach(() => {
  lambda.reset();
  iam.reset();
  route53.reset();
  lambda.on(GetFunctionConfigurationCommand).resolves({
    FunctionName: FUNCTION,
    Role: ROLE_ARN,
    LastUpdateStatus: "Successful",
    State: "Active",
    Environment: { Variables: { TABLE_NAME: "calculations-table", CALCBURST_REGION_DISABLED: "false" } },
  });
  route53.on(ListHealthChecksCommand).resolves({
    HealthChecks: config.regions.map((region) => ({
      Id: `hc-${region}`,
      CallerReference: region,
      HealthCheckVersion: 1,
      HealthCheckConfig: { Type: "HTTPS", FullyQualifiedDomainName: `${region}.api.${config.domain}` },
    })),
    IsTruncated: false,
    Marker: "",
    MaxItems: 100,
  });
});

describe("the drill's AWS target", () => {
  it("flips the kill switch with the rest of the environment kept in a version the live alias serves, and puts both back", async () => {
    // Prepare
    const target = awsTarget(config, "prod", clients, served);
    lambda.on(UpdateFunctionConfigurationCommand).resolves({});
    lambda
      .on(GetAliasCommand)
      .resolves({ Name: "live", FunctionVersion: "7", RoutingConfig: { AdditionalVersionWeights: { "8": 0.1 } } });
    lambda.on(PublishVersionCommand).resolves({ Version: "9" });
    lambda.on(UpdateAliasCommand).resolves({});
    // What the FunctionUpdatedV2 waiter polls: the update has finished.
    lambda
      .on(GetFunctionCommand)
      .resolves({ Configuration: { FunctionName: FUNCTION, LastUpdateStatus: "Successful" } });

    // Act
    await target.inject("eu-west-1", "health");
    await target.restore("eu-west-1", "health");

    // Assess
    const updates = lambda.commandCalls(UpdateFunctionConfigurationCommand).map((call) => call.args[0].input);
    expect(updates).toEqual([
      {
        FunctionName: FUNCTION,
        Environment: { Variables: { TABLE_NAME: "calculations-table", CALCBURST_REGION_DISABLED: "true" } },
      },
      {
        FunctionName: FUNCTION,
        Environment: { Variables: { TABLE_NAME: "calculations-table", CALCBURST_REGION_DISABLED: "false" } },
      },
    ]);
    expect(lambda.commandCalls(PublishVersionCommand).map((call) => call.args[0].input)).toEqual([
      { FunctionName: FUNCTION },
    ]);
    expect(lambda.commandCalls(UpdateAliasCommand).map((call) => call.args[0].input)).toEqual([
      { FunctionName: FUNCTION, Name: "live", FunctionVersion: "9", RoutingConfig: { AdditionalVersionWeights: {} } },
      {
        FunctionName: FUNCTION,
        Name: "live",
        FunctionVersion: "7",
        RoutingConfig: { AdditionalVersionWeights: { "8": 0.1 } },
      },
    ]);
  });

  it("throttles the function to zero for api, and restores the stack's reserved concurrency", async () => {
    const target = awsTarget(config, "prod", clients, served);
    lambda.on(PutFunctionConcurrencyCommand).resolves({});

    await target.inject("eu-west-1", "api");
    await target.restore("eu-west-1", "api");

    expect(lambda.commandCalls(PutFunctionConcurrencyCommand).map((call) => call.args[0].input)).toEqual([
      { FunctionName: FUNCTION, ReservedConcurrentExecutions: 0 },
      { FunctionName: FUNCTION, ReservedConcurrentExecutions: config.lambdaReservedConcurrency },
    ]);
  });

  it("denies DynamoDB to the function's role for data, and removes exactly that policy", async () => {
    const target = awsTarget(config, "prod", clients, served);
    iam.on(PutRolePolicyCommand).resolves({});
    iam.on(DeleteRolePolicyCommand).resolves({});

    await target.inject("eu-west-1", "data");
    await target.restore("eu-west-1", "data");

    const put = iam.commandCalls(PutRolePolicyCommand)[0]?.args[0].input;
    expect(put?.RoleName).toBe("calcburst-eu-west-1-role-0a1b2c3");
    expect(put?.PolicyName).toBe(DATA_DRILL_POLICY);
    expect(JSON.parse(put?.PolicyDocument ?? "{}")).toEqual({
      Version: "2012-10-17",
      Statement: [{ Sid: "FailoverDrill", Effect: "Deny", Action: "dynamodb:*", Resource: "*" }],
    });
    expect(iam.commandCalls(DeleteRolePolicyCommand).map((call) => call.args[0].input)).toEqual([
      { RoleName: "calcburst-eu-west-1-role-0a1b2c3", PolicyName: DATA_DRILL_POLICY },
    ]);
  });

  it("refuses isolate, which has no AWS counterpart, without calling AWS", async () => {
    const target = awsTarget(config, "prod", clients, served);

    await expect(target.inject("eu-west-1", "isolate")).rejects.toThrow(
      "a global table's replication cannot be paused",
    );
    expect(lambda.calls()).toHaveLength(0);
    expect(iam.calls()).toHaveLength(0);
  });

  it("finds each region's health check and reads Route 53's checkers as healthy above 18%", async () => {
    // Prepare
    const target = awsTarget(config, "prod", clients, served);
    const report = (passing: number, failing: number) => ({
      HealthCheckObservations: [
        ...Array.from({ length: passing }, () => ({ StatusReport: { Status: "Success: HTTP Status Code 200, OK" } })),
        ...Array.from({ length: failing }, () => ({ StatusReport: { Status: "Failure: HTTP Status Code 503" } })),
      ],
    });
    route53.on(GetHealthCheckStatusCommand, { HealthCheckId: "hc-us-east-1" }).resolves(report(15, 1));
    route53.on(GetHealthCheckStatusCommand, { HealthCheckId: "hc-eu-west-1" }).resolves(report(2, 14));

    // Act
    await target.prepare();
    const health = await target.health();

    // Assess
    expect(target.preferredRegion).toEqual({ "this-machine": "eu-west-1" });
    expect(health).toEqual({ "us-east-1": true, "eu-west-1": false });
  });

  it("budgets detection, the TTL and the slack from the stack config", () => {
    const target = awsTarget(config, "prod", clients, served);

    expect(target.budget).toEqual({
      detectionMs: config.healthCheckIntervalSeconds * 1000 * config.healthCheckFailureThreshold + 4000 + 5000,
      ttlMs: config.recordTtlSeconds * 1000,
      slackMs: config.drillRtoSlackSeconds * 1000,
    });
    expect(target.entryPoint).toBe(`https://api.${config.domain}`);
  });
});
