import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AliasTarget } from "./regional-service.js";

export interface RoutedRegion {
  region: string;
  /** `<region>.api.<domain>`: the health check's target. */
  regionalName: string;
  globalTarget: AliasTarget;
  regionalTarget: AliasTarget;
}

export interface LatencyRoutingArgs {
  hostedZoneId: pulumi.Input<string>;
  /** `api.<domain>`. */
  globalName: string;
  regions: RoutedRegion[];
  healthCheckIntervalSeconds: number;
  healthCheckFailureThreshold: number;
  tags?: Record<string, string>;
}

/** Alias records carry no TTL of their own; both address families are answered. */
const RECORD_TYPES = ["A", "AAAA"] as const;

/**
 * Route 53 in front of the regions: per region a deep HTTPS health check on the region's own
 * name and `/health`, alias records for that name, and latency records for the global name
 * that carry the health check, so a failing region drops out of the answers.
 */
export class LatencyRouting extends pulumi.ComponentResource {
  readonly healthChecks: Record<string, aws.route53.HealthCheck> = {};
  readonly url: string;

  constructor(name: string, args: LatencyRoutingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("calcburst:routing:LatencyRouting", name, {}, opts);
    const parent = { parent: this };

    for (const routed of args.regions) {
      const { region } = routed;
      const regionalRecords = RECORD_TYPES.map(
        (type) =>
          new aws.route53.Record(
            `${name}-${region}-regional-${type.toLowerCase()}`,
            {
              zoneId: args.hostedZoneId,
              name: routed.regionalName,
              type,
              aliases: [
                { name: routed.regionalTarget.name, zoneId: routed.regionalTarget.zoneId, evaluateTargetHealth: false },
              ],
            },
            parent,
          ),
      );
      const healthCheck = new aws.route53.HealthCheck(
        `${name}-${region}-health-check`,
        {
          type: "HTTPS",
          fqdn: routed.regionalName,
          port: 443,
          resourcePath: "/health",
          enableSni: true,
          requestInterval: args.healthCheckIntervalSeconds,
          failureThreshold: args.healthCheckFailureThreshold,
          measureLatency: true,
          tags: { ...args.tags, Name: `calcburst ${region} /health` },
        },
        { parent: this, dependsOn: regionalRecords },
      );
      this.healthChecks[region] = healthCheck;

      for (const type of RECORD_TYPES) {
        new aws.route53.Record(
          `${name}-${region}-latency-${type.toLowerCase()}`,
          {
            zoneId: args.hostedZoneId,
            name: args.globalName,
            type,
            setIdentifier: region,
            latencyRoutingPolicies: [{ region }],
            healthCheckId: healthCheck.id,
            aliases: [
              { name: routed.globalTarget.name, zoneId: routed.globalTarget.zoneId, evaluateTargetHealth: true },
            ],
          },
          parent,
        );
      }
    }
    this.url = `https://${args.globalName}`;
    this.registerOutputs({ url: this.url });
  }
}
