import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import {
  CodeDeployClient,
  CreateDeploymentCommand,
  GetDeploymentCommand,
  GetDeploymentGroupCommand,
  StopDeploymentCommand,
} from "@aws-sdk/client-codedeploy";
import {
  GetAliasCommand,
  LambdaClient,
  ListVersionsByFunctionCommand,
  UpdateAliasCommand,
} from "@aws-sdk/client-lambda";
import { LIVE_ALIAS, regionalNames } from "../shared/release.js";
import type { ReleaseDriver } from "./run.js";

/** One client of each service per region; tests hand in their own. */
export interface RegionalClients {
  lambda(region: string): LambdaClient;
  codeDeploy(region: string): CodeDeployClient;
  cloudWatch(region: string): CloudWatchClient;
}

export function awsClients(): RegionalClients {
  const cache = new Map<string, LambdaClient | CodeDeployClient | CloudWatchClient>();
  const cached = <T extends LambdaClient | CodeDeployClient | CloudWatchClient>(key: string, make: () => T): T => {
    const found = cache.get(key);
    if (found !== undefined) return found as T;
    const client = make();
    cache.set(key, client);
    return client;
  };
  return {
    lambda: (region) => cached(`lambda ${region}`, () => new LambdaClient({ region })),
    codeDeploy: (region) => cached(`codedeploy ${region}`, () => new CodeDeployClient({ region })),
    cloudWatch: (region) => cached(`cloudwatch ${region}`, () => new CloudWatchClient({ region })),
  };
}

export interface AwsDriverOptions {
  stack: string;
  clients: RegionalClients;
  /** How often a deployment's status is read. */
  pollMs: number;
  /** Attempts per control-plane call when AWS throttles or fails it (besides the SDK's own). */
  attempts?: number;
  wait?: (ms: number) => Promise<void>;
}

/** Errors worth another try: throttling, AWS's own 5xx, a dropped connection. */
function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
  return (
    /Throttl|TooManyRequests|RequestLimitExceeded|ServiceUnavailable|InternalFailure|Timeout|ECONNRESET/i.test(
      `${error.name} ${error.message}`,
    ) || status >= 500
  );
}

/**
 * The release on AWS: each region's CodeDeploy deployment group (infra/components/canary-release.ts)
 * moves the live alias as a canary and rolls it back on the region's alarms by itself; this driver
 * starts and follows those deployments, reads the alarms during the bake, and puts an alias back
 * directly (UpdateAlias) when the release fails after a region was promoted.
 */
export function awsDriver(options: AwsDriverOptions): ReleaseDriver {
  const { stack, clients } = options;
  const attempts = options.attempts ?? 5;
  const wait = options.wait ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const inFlight = new Map<string, string>();
  const alarmNames = new Map<string, string[]>();

  async function call<T>(what: string, region: string, send: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await send();
      } catch (error) {
        if (attempt >= attempts || !isTransient(error)) {
          const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          throw new Error(`${what} in ${region} failed after ${attempt} attempt(s): ${message}`);
        }
        await wait(Math.min(20_000, 500 * 2 ** (attempt - 1)));
      }
    }
  }

  const readAlias = async (region: string) => {
    const { functionName } = regionalNames(stack, region);
    const alias = await call("GetAlias", region, () =>
      clients.lambda(region).send(new GetAliasCommand({ FunctionName: functionName, Name: LIVE_ALIAS })),
    );
    if (alias.FunctionVersion === undefined) throw new Error(`${functionName}:${LIVE_ALIAS} names no version`);
    return alias;
  };

  return {
    async inspect(region) {
      const { functionName } = regionalNames(stack, region);
      const alias = await readAlias(region);
      const split = Object.keys(alias.RoutingConfig?.AdditionalVersionWeights ?? {});
      if (split.length > 0) {
        throw new Error(
          `${functionName}:${LIVE_ALIAS} still sends part of its traffic to version ${split.join(", ")}: a deployment is in flight or was interrupted; let it finish or roll it back by hand (docs/RELEASING.md#roll-back-by-hand)`,
        );
      }
      const versions: string[] = [];
      let marker: string | undefined;
      do {
        const page = await call("ListVersionsByFunction", region, () =>
          clients
            .lambda(region)
            .send(new ListVersionsByFunctionCommand({ FunctionName: functionName, ...(marker && { Marker: marker }) })),
        );
        versions.push(...(page.Versions ?? []).map((version) => version.Version ?? "").filter((v) => /^\d+$/.test(v)));
        marker = page.NextMarker;
      } while (marker);
      const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
      if (newest === undefined) throw new Error(`${functionName} has no published version: run pulumi up first`);
      return { serving: alias.FunctionVersion as string, candidate: newest };
    },

    async deploy(region, { from, to }, progress) {
      const names = regionalNames(stack, region);
      const resources = [
        {
          [names.functionName]: {
            Type: "AWS::Lambda::Function",
            Properties: { Name: names.functionName, Alias: LIVE_ALIAS, CurrentVersion: from, TargetVersion: to },
          },
        },
      ];
      // AWS's AppSpec examples write the version as 0.0, which JSON.stringify would print as 0.
      const appSpec = `{"version":0.0,"Resources":${JSON.stringify(resources)}}`;
      const { deploymentId } = await call("CreateDeployment", region, () =>
        clients.codeDeploy(region).send(
          new CreateDeploymentCommand({
            applicationName: names.application,
            deploymentGroupName: names.deploymentGroup,
            description: `npm run release: version ${from} to ${to}`,
            revision: { revisionType: "AppSpecContent", appSpecContent: { content: appSpec } },
          }),
        ),
      );
      if (deploymentId === undefined) throw new Error(`CodeDeploy in ${region} returned no deployment id`);
      inFlight.set(region, deploymentId);
      progress.event(`CodeDeploy deployment ${deploymentId}`);
      // From CreateDeployment on, CodeDeploy may shift the canary share at any moment.
      progress.exposed(0.1);
      for (;;) {
        if (progress.signal.aborted) throw new Error(`deployment ${deploymentId} left to the rollback`);
        const { deploymentInfo } = await call("GetDeployment", region, () =>
          clients.codeDeploy(region).send(new GetDeploymentCommand({ deploymentId })),
        );
        const status = deploymentInfo?.status;
        if (status === "Succeeded") {
          inFlight.delete(region);
          return;
        }
        if (status === "Failed" || status === "Stopped") {
          inFlight.delete(region);
          const why = deploymentInfo?.errorInformation?.message ?? deploymentInfo?.errorInformation?.code ?? status;
          throw new Error(`CodeDeploy deployment ${deploymentId} ${status.toLowerCase()}: ${why}`);
        }
        await wait(options.pollMs);
      }
    },

    async firingAlarms(region) {
      const names = regionalNames(stack, region);
      let watched = alarmNames.get(region);
      if (watched === undefined) {
        const { deploymentGroupInfo } = await call("GetDeploymentGroup", region, () =>
          clients.codeDeploy(region).send(
            new GetDeploymentGroupCommand({
              applicationName: names.application,
              deploymentGroupName: names.deploymentGroup,
            }),
          ),
        );
        watched = (deploymentGroupInfo?.alarmConfiguration?.alarms ?? []).map((alarm) => alarm.name ?? "");
        alarmNames.set(region, watched);
      }
      if (watched.length === 0) return [];
      const { MetricAlarms } = await call("DescribeAlarms", region, () =>
        clients.cloudWatch(region).send(new DescribeAlarmsCommand({ AlarmNames: watched, StateValue: "ALARM" })),
      );
      return (MetricAlarms ?? []).map((alarm) => alarm.AlarmName ?? "");
    },

    async rollBack(region, version) {
      const { functionName } = regionalNames(stack, region);
      const deploymentId = inFlight.get(region);
      if (deploymentId !== undefined) {
        // CodeDeploy would roll back by itself too; the UpdateAlias below makes it certain and immediate.
        await call("StopDeployment", region, () =>
          clients.codeDeploy(region).send(new StopDeploymentCommand({ deploymentId, autoRollbackEnabled: true })),
        ).catch(() => undefined);
        inFlight.delete(region);
      }
      await call("UpdateAlias", region, () =>
        clients.lambda(region).send(
          new UpdateAliasCommand({
            FunctionName: functionName,
            Name: LIVE_ALIAS,
            FunctionVersion: version,
            RoutingConfig: { AdditionalVersionWeights: {} },
          }),
        ),
      );
    },

    async serving(region) {
      return (await readAlias(region)).FunctionVersion as string;
    },
  };
}
