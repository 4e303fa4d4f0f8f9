import { DeleteRolePolicyCommand, IAMClient, PutRolePolicyCommand } from "@aws-sdk/client-iam";
import {
  type AliasRoutingConfiguration,
  GetAliasCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  UpdateAliasCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionUpdatedV2,
} from "@aws-sdk/client-lambda";
import { GetHealthCheckStatusCommand, ListHealthChecksCommand, Route53Client } from "@aws-sdk/client-route-53";
import type { FailoverMode } from "../../shared/drill-report.js";
import { DEFAULT_HEALTH_CACHE_MS, KILL_SWITCH_VARIABLE } from "../../shared/env.js";
import { LIVE_ALIAS } from "../../shared/release.js";
import type { StackConfig } from "../../shared/stack-config.js";
import { type DrillTarget, probe as probeOnce } from "./target.js";

/** Route 53 waits 4 s for a connection and 2 s for the answer before a check fails. */
const ROUTE53_CHECK_TIMEOUT_MS = 4000;
/** Route 53 calls an endpoint healthy while more than 18% of its checkers see it healthy. */
const ROUTE53_HEALTHY_SHARE = 0.18;
const PROBE_TIMEOUT_MS = 10_000;
/** The inline policy the `data` mode adds to the function's role, and removes on restore. */
export const DATA_DRILL_POLICY = "calcburst-drill-deny-dynamodb";

/** What each mode does on AWS (docs/RUNBOOK.md has the same table). */
export const AWS_MODE_ACTIONS: Record<FailoverMode, string> = {
  health: `sets the function's ${KILL_SWITCH_VARIABLE}=true in a new version and points the ${LIVE_ALIAS} alias at it: /health answers 503, Route 53 fails the region over`,
  api: "sets the function's reserved concurrency to 0: every invocation is throttled, /health included",
  data: `adds an inline policy (${DATA_DRILL_POLICY}) denying every DynamoDB action to the function's role: writes and /health fail as in a data-layer outage`,
  isolate: "has no AWS counterpart: a global table's replication cannot be paused",
  crash:
    "has no AWS counterpart: DynamoDB's storage is AWS's to run, and a replica cannot be crashed on demand (the data mode denies the function DynamoDB instead)",
};

/** Modes only the local cloud can drill; on AWS the drill refuses them, saying why. */
export const LOCAL_ONLY_MODES: readonly FailoverMode[] = ["isolate", "crash"];

export interface AwsClients {
  lambda(region: string): LambdaClient;
  iam: IAMClient;
  route53: Route53Client;
}

export function defaultAwsClients(): AwsClients {
  const lambdas = new Map<string, LambdaClient>();
  return {
    lambda: (region) => {
      let client = lambdas.get(region);
      if (client === undefined) {
        client = new LambdaClient({ region });
        lambdas.set(region, client);
      }
      return client;
    },
    iam: new IAMClient({ region: "us-east-1" }),
    route53: new Route53Client({ region: "us-east-1" }),
  };
}

/** The function's name in a region, as infra/config.ts names it. */
export const functionNameOf = (stack: string, region: string) => `calcburst-${stack}-${region}`;

/**
 * An AWS stack as a drill target, with the credentials already configured (the AWS SDK's
 * default chain). Probes come from this machine, so they exercise one location: the one Route 53
 * sees this machine in. Faults are configuration changes the restore undoes exactly.
 */
export function awsTarget(
  config: StackConfig,
  stack: string,
  clients: AwsClients = defaultAwsClients(),
  send: typeof fetch = fetch,
): DrillTarget & { prepare(): Promise<void> } {
  const globalName = `api.${config.domain}`;
  const regionalName = (region: string) => `${region}.api.${config.domain}`;
  const healthCheckIds = new Map<string, string>();
  const probe = (url: string, init: RequestInit) => probeOnce(url, init, PROBE_TIMEOUT_MS, send);
  const functionConfiguration = (region: string) =>
    clients.lambda(region).send(new GetFunctionConfigurationCommand({ FunctionName: functionNameOf(stack, region) }));
  const setKillSwitch = async (region: string, disabled: boolean) => {
    const current = await functionConfiguration(region);
    const lambda = clients.lambda(region);
    await lambda.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: functionNameOf(stack, region),
        // The whole environment is replaced on update: keep every other variable as it is.
        Environment: { Variables: { ...current.Environment?.Variables, [KILL_SWITCH_VARIABLE]: String(disabled) } },
      }),
    );
    await waitUntilFunctionUpdatedV2(
      { client: lambda, maxWaitTime: 120 },
      { FunctionName: functionNameOf(stack, region) },
    );
  };
  /** What the live alias served before the drill moved it, per region: the restore puts it back exactly. */
  const aliasBefore = new Map<string, { version: string; routing: AliasRoutingConfiguration | undefined }>();
  // API Gateway invokes the live alias, so a switch on $LATEST alone reaches no traffic: the
  // switched configuration is published as a version and the alias moved to it, then back.
  const disableBehindAlias = async (region: string) => {
    const lambda = clients.lambda(region);
    const FunctionName = functionNameOf(stack, region);
    const alias = await lambda.send(new GetAliasCommand({ FunctionName, Name: LIVE_ALIAS }));
    if (alias.FunctionVersion === undefined) throw new Error(`${FunctionName}:${LIVE_ALIAS} names no version`);
    aliasBefore.set(region, { version: alias.FunctionVersion, routing: alias.RoutingConfig });
    await setKillSwitch(region, true);
    const { Version } = await lambda.send(new PublishVersionCommand({ FunctionName }));
    if (Version === undefined) throw new Error(`${FunctionName}: publishing the switched version returned no version`);
    await lambda.send(
      new UpdateAliasCommand({
        FunctionName,
        Name: LIVE_ALIAS,
        FunctionVersion: Version,
        RoutingConfig: { AdditionalVersionWeights: {} },
      }),
    );
    return Version;
  };
  const enableBehindAlias = async (region: string) => {
    const lambda = clients.lambda(region);
    const FunctionName = functionNameOf(stack, region);
    const before = aliasBefore.get(region);
    // The alias first: traffic is back on the version it served before, whatever $LATEST says.
    if (before !== undefined) {
      await lambda.send(
        new UpdateAliasCommand({
          FunctionName,
          Name: LIVE_ALIAS,
          FunctionVersion: before.version,
          RoutingConfig: before.routing ?? { AdditionalVersionWeights: {} },
        }),
      );
      aliasBefore.delete(region);
    }
    await setKillSwitch(region, false);
    return before?.version;
  };
  const roleNameOf = async (region: string) => {
    const role = (await functionConfiguration(region)).Role ?? "";
    const name = role.split("/").pop();
    if (name === undefined || name === "") throw new Error(`${functionNameOf(stack, region)} reports no role`);
    return name;
  };
  const target: DrillTarget & { prepare(): Promise<void> } = {
    kind: "aws",
    entryPoint: `https://${globalName}`,
    regions: config.regions,
    locations: ["this-machine"],
    preferredRegion: {},
    probeIntervalMs: 1000,
    budget: {
      detectionMs:
        config.healthCheckIntervalSeconds * 1000 * config.healthCheckFailureThreshold +
        ROUTE53_CHECK_TIMEOUT_MS +
        DEFAULT_HEALTH_CACHE_MS,
      ttlMs: config.recordTtlSeconds * 1000,
      slackMs: config.drillRtoSlackSeconds * 1000,
    },
    /** Which region serves this machine before the drill, and each region's health check. */
    async prepare() {
      const answer = await probe(`https://${globalName}/health`, {});
      if (answer.region === null) {
        throw new Error(
          `https://${globalName}/health did not answer (status ${answer.status}): is the stack deployed?`,
        );
      }
      target.preferredRegion = { "this-machine": answer.region };
      let marker: string | undefined;
      do {
        const page = await clients.route53.send(new ListHealthChecksCommand({ Marker: marker }));
        for (const check of page.HealthChecks ?? []) {
          const fqdn = check.HealthCheckConfig?.FullyQualifiedDomainName;
          const region = config.regions.find((one) => regionalName(one) === fqdn);
          if (region !== undefined && check.Id !== undefined) healthCheckIds.set(region, check.Id);
        }
        marker = page.IsTruncated ? page.NextMarker : undefined;
      } while (marker !== undefined);
      const missing = config.regions.filter((region) => !healthCheckIds.has(region));
      if (missing.length > 0) throw new Error(`no Route 53 health check on ${missing.map(regionalName).join(", ")}`);
    },
    write: (_location, id, body) =>
      probe(`https://${globalName}/v1/calculations`, {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": id },
        body: JSON.stringify(body),
      }),
    writeIn: (region, path, body) =>
      probe(`https://${regionalName(region)}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
    read: (region, id) => probe(`https://${regionalName(region)}/v1/calculations/${encodeURIComponent(id)}`, {}),
    async inject(region, mode) {
      switch (mode) {
        case "health": {
          const version = await disableBehindAlias(region);
          return `${functionNameOf(stack, region)}: ${KILL_SWITCH_VARIABLE}=true in version ${version}, ${LIVE_ALIAS} points at it`;
        }
        case "api":
          await clients.lambda(region).send(
            new PutFunctionConcurrencyCommand({
              FunctionName: functionNameOf(stack, region),
              ReservedConcurrentExecutions: 0,
            }),
          );
          break;
        case "data":
          await clients.iam.send(
            new PutRolePolicyCommand({
              RoleName: await roleNameOf(region),
              PolicyName: DATA_DRILL_POLICY,
              PolicyDocument: JSON.stringify({
                Version: "2012-10-17",
                Statement: [{ Sid: "FailoverDrill", Effect: "Deny", Action: "dynamodb:*", Resource: "*" }],
              }),
            }),
          );
          break;
        case "isolate":
        case "crash":
          throw new Error(`--mode ${mode} ${AWS_MODE_ACTIONS[mode]}; run it against the local cloud`);
      }
      return `${functionNameOf(stack, region)}: ${AWS_MODE_ACTIONS[mode]}`;
    },
    async restore(region, mode) {
      switch (mode) {
        case "health": {
          const version = await enableBehindAlias(region);
          return `${functionNameOf(stack, region)}: ${LIVE_ALIAS} back on version ${version ?? "(unchanged)"}, ${KILL_SWITCH_VARIABLE}=false`;
        }
        case "api":
          await clients.lambda(region).send(
            new PutFunctionConcurrencyCommand({
              FunctionName: functionNameOf(stack, region),
              ReservedConcurrentExecutions: config.lambdaReservedConcurrency,
            }),
          );
          return `${functionNameOf(stack, region)}: reserved concurrency back to ${config.lambdaReservedConcurrency}`;
        case "data":
          await clients.iam.send(
            new DeleteRolePolicyCommand({ RoleName: await roleNameOf(region), PolicyName: DATA_DRILL_POLICY }),
          );
          return `${functionNameOf(stack, region)}: ${DATA_DRILL_POLICY} removed`;
        case "isolate":
        case "crash":
          return "nothing to restore";
      }
    },
    async health() {
      const entries = await Promise.all(
        config.regions.map(async (region) => {
          const id = healthCheckIds.get(region);
          if (id === undefined) return [region, true] as const;
          const status = await clients.route53.send(new GetHealthCheckStatusCommand({ HealthCheckId: id }));
          const observations = status.HealthCheckObservations ?? [];
          const passing = observations.filter((one) => one.StatusReport?.Status?.startsWith("Success")).length;
          return [region, observations.length > 0 && passing / observations.length > ROUTE53_HEALTHY_SHARE] as const;
        }),
      );
      return Object.fromEntries(entries);
    },
    // DynamoDB's ReplicationLatency is in CloudWatch (and on the dashboard); the drill does not read it.
    replicationLag: async () => null,
  };
  return target;
}
