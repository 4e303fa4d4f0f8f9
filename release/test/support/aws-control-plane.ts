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
import { mockClient } from "aws-sdk-client-mock";
import { type ReleaseReport, schema } from "../../../shared/release-report.js";
import { awsDriver, type RegionalClients } from "../../aws.js";
import { release } from "../../run.js";

/**
 * A model of what the release touches in each region: the function's versions and live alias,
 * the CodeDeploy deployment group and its deployments, the region's alarms. There is no AWS on
 * this machine and no local emulator of CodeDeploy, so the SDK clients are answered by this model
 * (through aws-sdk-client-mock) and faults are injected on top of it, per region and command.
 */

export interface RegionModel {
  /** Published versions, oldest first. */
  versions: string[];
  alias: { version: string; weights: Record<string, number> };
  alarms: Record<string, "OK" | "ALARM">;
  /** A canary in this region makes its alarm fire: CodeDeploy stops and rolls back. */
  badCanary: boolean;
  /** The canary passes, but the alarm fires after this many bake reads with all traffic on a new version. */
  alarmAfterPromotion: number | undefined;
  /** GetDeployment reads before a healthy deployment succeeds. */
  canaryReads: number;
}

interface Deployment {
  region: string;
  from: string;
  to: string;
  status: "InProgress" | "Succeeded" | "Stopped";
  reads: number;
  error?: { code: string; message: string };
}

export type CommandName =
  | "GetAlias"
  | "ListVersionsByFunction"
  | "UpdateAlias"
  | "CreateDeployment"
  | "GetDeployment"
  | "StopDeployment"
  | "GetDeploymentGroup"
  | "DescribeAlarms";

/** An AWS error as the SDK raises it: a name, a message and the HTTP status. */
export function awsError(name: string, status: number, message = name): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
}

export class ControlPlane {
  readonly regions: Record<string, RegionModel> = {};
  readonly deployments = new Map<string, Deployment>();
  /** Every command each region received, in order, as `region Command`. */
  readonly calls: string[] = [];
  private readonly faults = new Map<string, Error[]>();
  private readonly clients: Record<
    string,
    { lambda: LambdaClient; codeDeploy: CodeDeployClient; cloudWatch: CloudWatchClient }
  > = {};

  constructor(regions: string[], initial: Partial<RegionModel> = {}) {
    for (const region of regions) {
      this.regions[region] = {
        versions: ["1", "2"],
        alias: { version: "1", weights: {} },
        alarms: { [`${region}-5xx-rate`]: "OK", [`${region}-p99-latency`]: "OK" },
        badCanary: false,
        alarmAfterPromotion: undefined,
        canaryReads: 2,
        ...structuredClone(initial),
      };
      this.clients[region] = this.mockRegion(region);
    }
  }

  /** The next `times` calls of `command` in `region` fail with `error` before the model answers. */
  fail(region: string, command: CommandName, error: Error, times = Number.POSITIVE_INFINITY): void {
    this.faults.set(
      `${region} ${command}`,
      Array.from({ length: Math.min(times, 1000) }, () => error),
    );
  }

  get awsClients(): RegionalClients {
    const pick = (region: string) => {
      const clients = this.clients[region];
      if (clients === undefined) throw new Error(`no model of ${region}`);
      return clients;
    };
    return {
      lambda: (region) => pick(region).lambda,
      codeDeploy: (region) => pick(region).codeDeploy,
      cloudWatch: (region) => pick(region).cloudWatch,
    };
  }

  /** What each region's live alias serves (all of it; a split alias shows as `1+2`). */
  serving(): Record<string, string> {
    return Object.fromEntries(
      Object.entries(this.regions).map(([region, model]) => [
        region,
        [model.alias.version, ...Object.keys(model.alias.weights)].join("+"),
      ]),
    );
  }

  private model(region: string): RegionModel {
    const model = this.regions[region];
    if (model === undefined) throw new Error(`no model of ${region}`);
    return model;
  }

  private answer<T>(region: string, command: CommandName, respond: () => T): T {
    this.calls.push(`${region} ${command}`);
    const pending = this.faults.get(`${region} ${command}`);
    const fault = pending?.shift();
    if (fault !== undefined) throw fault;
    return respond();
  }

  private mockRegion(region: string) {
    const credentials = { accessKeyId: "AKIDMODEL", secretAccessKey: "model" };
    const lambda = new LambdaClient({ region, credentials });
    const codeDeploy = new CodeDeployClient({ region, credentials });
    const cloudWatch = new CloudWatchClient({ region, credentials });
    const model = () => this.model(region);

    const lambdaStub = mockClient(lambda);
    lambdaStub.on(GetAliasCommand).callsFake(() =>
      this.answer(region, "GetAlias", () => ({
        Name: "live",
        FunctionVersion: model().alias.version,
        ...(Object.keys(model().alias.weights).length > 0 && {
          RoutingConfig: { AdditionalVersionWeights: { ...model().alias.weights } },
        }),
      })),
    );
    lambdaStub.on(ListVersionsByFunctionCommand).callsFake(() =>
      this.answer(region, "ListVersionsByFunction", () => ({
        Versions: ["$LATEST", ...model().versions].map((Version) => ({ Version })),
      })),
    );
    lambdaStub
      .on(UpdateAliasCommand)
      .callsFake(
        (input: { FunctionVersion?: string; RoutingConfig?: { AdditionalVersionWeights?: Record<string, number> } }) =>
          this.answer(region, "UpdateAlias", () => {
            model().alias = {
              version: input.FunctionVersion ?? model().alias.version,
              weights: { ...(input.RoutingConfig?.AdditionalVersionWeights ?? model().alias.weights) },
            };
            return { FunctionVersion: model().alias.version };
          }),
      );

    const codeDeployStub = mockClient(codeDeploy);
    codeDeployStub
      .on(CreateDeploymentCommand)
      .callsFake((input: { revision?: { appSpecContent?: { content?: string } } }) =>
        this.answer(region, "CreateDeployment", () => {
          const spec = JSON.parse(input.revision?.appSpecContent?.content ?? "{}") as {
            Resources: Record<string, { Properties: { CurrentVersion: string; TargetVersion: string } }>[];
          };
          const properties = Object.values(spec.Resources[0] ?? {})[0]?.Properties;
          if (properties === undefined) throw awsError("InvalidRevisionException", 400);
          const deploymentId = `d-${region}-${this.deployments.size + 1}`;
          this.deployments.set(deploymentId, {
            region,
            from: properties.CurrentVersion,
            to: properties.TargetVersion,
            status: "InProgress",
            reads: 0,
          });
          model().alias.weights = { [properties.TargetVersion]: 0.1 };
          return { deploymentId };
        }),
      );
    codeDeployStub.on(GetDeploymentCommand).callsFake((input: { deploymentId: string }) =>
      this.answer(region, "GetDeployment", () => {
        const deployment = this.deployments.get(input.deploymentId);
        if (deployment === undefined) throw awsError("DeploymentDoesNotExistException", 400);
        deployment.reads++;
        if (deployment.status === "InProgress" && model().badCanary) {
          const [alarm = ""] = Object.keys(model().alarms);
          model().alarms[alarm] = "ALARM";
          this.stop(deployment, { code: "ALARM_ACTIVE", message: `The alarm ${alarm} is in ALARM` });
        } else if (deployment.status === "InProgress" && deployment.reads >= model().canaryReads) {
          deployment.status = "Succeeded";
          model().alias = { version: deployment.to, weights: {} };
        }
        return {
          deploymentInfo: {
            deploymentId: input.deploymentId,
            status: deployment.status,
            ...(deployment.error && { errorInformation: deployment.error }),
          },
        };
      }),
    );
    codeDeployStub.on(StopDeploymentCommand).callsFake((input: { deploymentId: string }) =>
      this.answer(region, "StopDeployment", () => {
        const deployment = this.deployments.get(input.deploymentId);
        if (deployment?.status === "InProgress") this.stop(deployment, { code: "MANUAL_STOP", message: "stopped" });
        return { status: "Succeeded" };
      }),
    );
    codeDeployStub.on(GetDeploymentGroupCommand).callsFake(() =>
      this.answer(region, "GetDeploymentGroup", () => ({
        deploymentGroupInfo: {
          alarmConfiguration: { enabled: true, alarms: Object.keys(model().alarms).map((name) => ({ name })) },
        },
      })),
    );

    const cloudWatchStub = mockClient(cloudWatch);
    cloudWatchStub.on(DescribeAlarmsCommand).callsFake((input: { AlarmNames?: string[]; StateValue?: string }) =>
      this.answer(region, "DescribeAlarms", () => {
        const healthyReads = model().alarmAfterPromotion;
        if (healthyReads !== undefined && model().alias.version !== "1") {
          model().alarmAfterPromotion = healthyReads - 1;
          const [alarm = ""] = Object.keys(model().alarms);
          if (healthyReads <= 0) model().alarms[alarm] = "ALARM";
        }
        return {
          MetricAlarms: Object.entries(model().alarms)
            .filter(
              ([name, state]) => (input.AlarmNames ?? [name]).includes(name) && (input.StateValue ?? state) === state,
            )
            .map(([AlarmName, StateValue]) => ({ AlarmName, StateValue })),
        };
      }),
    );
    return { lambda, codeDeploy, cloudWatch };
  }

  /** CodeDeploy's rollback: the alias back on the version it came from. */
  private stop(deployment: Deployment, error: { code: string; message: string }): void {
    deployment.status = "Stopped";
    deployment.error = error;
    this.model(deployment.region).alias = { version: deployment.from, weights: {} };
  }
}

/** A clock that moves only when the release waits: a ten-minute bake runs in no time. */
export function manualClock(): { now: () => number; wait: (ms: number) => Promise<void> } {
  let time = Date.UTC(2026, 11, 1, 12);
  return {
    now: () => time,
    wait: async (ms) => {
      time += ms;
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

/** global3's regions and its default waves: us-east-1 alone, then the other two. */
export const WAVES = [["us-east-1"], ["eu-west-1", "ap-southeast-2"]];
export const REGIONS = WAVES.flat();

/** The release of stack `global3` against the model, with a five-minute bake on the manual clock. */
export async function releaseAgainst(plane: ControlPlane): Promise<ReleaseReport> {
  const clock = manualClock();
  const report = await release({
    target: "global3",
    waves: WAVES,
    driver: awsDriver({ stack: "global3", clients: plane.awsClients, pollMs: 1000, wait: clock.wait }),
    bakeMs: 5 * 60_000,
    pollMs: 15_000,
    ...clock,
  });
  // Every report is one the local release's readers can read.
  return schema.parse(report);
}
