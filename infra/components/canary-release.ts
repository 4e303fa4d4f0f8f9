import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DEPLOYMENT_CONFIG, LIVE_ALIAS } from "../../shared/release.js";
import { assumableBy } from "../iam.js";
import { RELEASE_WAVE_TAG } from "../policy/policies.js";

/**
 * The alias API Gateway invokes. Pulumi creates it on the version the function publishes then,
 * and never moves it again: its version and weights belong to the release (CodeDeploy, driven by
 * `npm run release`). Without ignoreChanges every `pulumi up` would point it at the newest
 * version at once, in every region, which is what releasing in waves exists to prevent; and an
 * up during a canary would undo the canary's weights.
 */
export function liveAlias(
  name: string,
  args: { region: string; fn: aws.lambda.Function },
  opts: pulumi.CustomResourceOptions,
): aws.lambda.Alias {
  return new aws.lambda.Alias(
    `${name}-live`,
    {
      region: args.region,
      name: LIVE_ALIAS,
      description: "What API Gateway invokes; moved by releases only (docs/RELEASING.md)",
      functionName: args.fn.name,
      functionVersion: args.fn.version,
    },
    { ...opts, ignoreChanges: ["functionVersion", "routingConfig"] },
  );
}

/** CodeDeploy's rollback events: a failed deployment, and any of the group's alarms firing during it. */
export const ROLLBACK_EVENTS = ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"] as const;

export interface CanaryDeploymentsArgs {
  region: string;
  fn: aws.lambda.Function;
  alias: aws.lambda.Alias;
  application: string;
  deploymentGroup: string;
  /** The alarms that stop the canary and roll it back: the region's own health, not its peers'. */
  alarms: aws.cloudwatch.MetricAlarm[];
  /** 1 for the first wave. */
  wave: number;
  tags: Record<string, string>;
}

/**
 * A region's CodeDeploy application and deployment group: a deployment moves the live alias to
 * a new version as a canary (DEPLOYMENT_CONFIG), watches the region's alarms, and moves it back by
 * itself when one fires or the deployment fails. CodeDeploy runs in the region, so a canary that
 * has started finishes or rolls back even if whoever started it (a CI runner) dies.
 */
export function canaryDeployments(
  name: string,
  args: CanaryDeploymentsArgs,
  opts: pulumi.CustomResourceOptions,
): aws.codedeploy.DeploymentGroup {
  const { region } = args;
  const application = new aws.codedeploy.Application(
    `${name}-deploy-app`,
    { region, name: args.application, computePlatform: "Lambda", tags: args.tags },
    opts,
  );
  const role = new aws.iam.Role(
    `${name}-deploy-role`,
    { assumeRolePolicy: assumableBy("codedeploy.amazonaws.com"), tags: args.tags },
    opts,
  );
  // What AWSCodeDeployRoleForLambdaLimited grants, held to this one function: CodeDeploy reads
  // and moves the alias and reads the alarms. No hooks, so no lambda:InvokeFunction.
  const policy = new aws.iam.RolePolicy(
    `${name}-deploy-policy`,
    {
      role: role.id,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "MoveTheLiveAlias",
            Effect: "Allow",
            Action: ["lambda:GetAlias", "lambda:UpdateAlias", "lambda:GetProvisionedConcurrencyConfig"],
            Resource: [args.fn.arn, pulumi.interpolate`${args.fn.arn}:*`],
          },
          {
            // DescribeAlarms takes no resource.
            Sid: "ReadTheAlarms",
            Effect: "Allow",
            Action: ["cloudwatch:DescribeAlarms"],
            Resource: "*",
          },
        ],
      }),
    },
    opts,
  );
  return new aws.codedeploy.DeploymentGroup(
    `${name}-deploy-group`,
    {
      region,
      appName: application.name,
      deploymentGroupName: args.deploymentGroup,
      serviceRoleArn: role.arn,
      deploymentConfigName: DEPLOYMENT_CONFIG,
      deploymentStyle: { deploymentType: "BLUE_GREEN", deploymentOption: "WITH_TRAFFIC_CONTROL" },
      alarmConfiguration: { enabled: true, alarms: args.alarms.map((alarm) => alarm.name) },
      autoRollbackConfiguration: { enabled: true, events: [...ROLLBACK_EVENTS] },
      tags: { ...args.tags, [RELEASE_WAVE_TAG]: String(args.wave) },
    },
    // A deployment must not start before the role may move the alias.
    { ...opts, dependsOn: [policy, args.alias] },
  );
}
