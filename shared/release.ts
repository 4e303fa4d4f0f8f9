/**
 * The names a release on AWS works with. The Pulumi program creates them and the release tool
 * (release/) finds them by these names alone, from the stack and the region: no stack outputs,
 * so a release needs no access to the Pulumi state.
 */

/** The alias API Gateway invokes. `pulumi up` creates it; after that only a release moves it. */
export const LIVE_ALIAS = "live";

/**
 * The CodeDeploy configuration of every region's deployment group: 10% of the traffic for ten
 * minutes, then all of it. Ten minutes, not five: the region's alarms need three one-minute
 * periods in breach, and CloudWatch publishes each period a minute or two late
 * (docs/RELEASING.md#what-is-watched).
 */
export const DEPLOYMENT_CONFIG = "CodeDeployDefault.LambdaCanary10Percent10Minutes";

/** The canary's share of a region's traffic: CodeDeploy's on AWS, the local release's alias weight. */
export const CANARY_WEIGHT = 0.1;

export interface RegionalNames {
  /** The function; fixed, so the CloudWatch exporter, the drills and the release can name it. */
  functionName: string;
  /** The region's CodeDeploy application. */
  application: string;
  /** Its one deployment group, which moves the live alias. */
  deploymentGroup: string;
}

export function regionalNames(stack: string, region: string): RegionalNames {
  const base = `calcburst-${stack}-${region}`;
  return { functionName: base, application: base, deploymentGroup: `${base}-${LIVE_ALIAS}` };
}
