/**
 * CalcBurst on AWS: the global table; the API's certificates; per region a RegionalMonitoring
 * (VPC, regional Prometheus) and a RegionalService (function in that VPC, HTTP API); latency
 * routing in front; and one GlobalMonitoring federating the regions. `pulumi up` per stack; the
 * config is checked by shared/stack-config.ts.
 */
import { existsSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { HANDLER_BUNDLE } from "../shared/paths.js";
import { ApiCertificates } from "./components/api-certificates.js";
import { GlobalMonitoring } from "./components/global-monitoring.js";
import { GlobalTable } from "./components/global-table.js";
import { LatencyRouting } from "./components/latency-routing.js";
import { RegionalMonitoring } from "./components/regional-monitoring.js";
import { RegionalService } from "./components/regional-service.js";
import {
  apiNames,
  functionName,
  logGroupNames,
  readGrafanaAdminPassword,
  readStackConfig,
  releaseOf,
  requireDefaultRegion,
} from "./config.js";
import { monitoringSubnetCidr } from "./network.js";

if (!existsSync(HANDLER_BUNDLE)) {
  throw new Error(`${HANDLER_BUNDLE} is missing: run npm run build before pulumi up (npm run plan builds it)`);
}

const config = readStackConfig();
requireDefaultRegion(config.regions);
const tags = { project: "calcburst", stack: pulumi.getStack() };
const bundle = new pulumi.asset.AssetArchive({
  "handler.js": new pulumi.asset.FileAsset(HANDLER_BUNDLE),
  ...(existsSync(`${HANDLER_BUNDLE}.map`) && { "handler.js.map": new pulumi.asset.FileAsset(`${HANDLER_BUNDLE}.map`) }),
});

const table = new GlobalTable("calculations", {
  regions: config.regions,
  consistency: config.tableConsistency,
  ttlEnabled: config.tableTtlDays > 0,
  ...(config.tableWitnessRegion !== undefined && { witnessRegion: config.tableWitnessRegion }),
  tags,
});

const certificates = new ApiCertificates("api-certificates", {
  hostedZoneId: config.hostedZoneId,
  globalName: apiNames(config.domain, config.regions[0] ?? "").global,
  regions: config.regions.map((region) => ({ region, regionalName: apiNames(config.domain, region).regional })),
  // Stacks deployed before ApiCertificates had each region's certificate in its RegionalService.
  previousOwner: (region) => ({
    parent: pulumi.createUrn(`calcburst-${region}`, "calcburst:service:RegionalService"),
    prefix: `calcburst-${region}`,
  }),
  tags,
});

const globalPrometheusCidr = monitoringSubnetCidr(config.vpcCidrs[config.monitoringRegion] ?? "");

const services = config.regions.map((region) => {
  const names = apiNames(config.domain, region);
  const vpcCidr = config.vpcCidrs[region] ?? "";
  const monitoring = new RegionalMonitoring(`calcburst-${region}-monitoring`, {
    region,
    config,
    vpcCidr,
    globalPrometheusCidr,
    healthUrl: `https://${names.regional}/health`,
    functionName: functionName(region),
    tableName: table.name,
    tags,
  });
  const service = new RegionalService(`calcburst-${region}`, {
    region,
    globalName: names.global,
    regionalName: names.regional,
    certificateArn: certificates.certificateArn(region),
    tableName: table.name,
    tableReplicaArn: table.replicaArn(region),
    replicationPeers: config.regions.filter((peer) => peer !== region),
    bundle,
    memoryMb: config.lambdaMemoryMb,
    timeoutSeconds: config.lambdaTimeoutSeconds,
    reservedConcurrency: config.lambdaReservedConcurrency,
    throttlingRateLimit: config.apiThrottlingRateLimit,
    throttlingBurstLimit: config.apiThrottlingBurstLimit,
    capacity: { peakRequestsPerSecond: config.peakRequestsPerSecond, latencyObjectiveMs: config.latencyObjectiveMs },
    alertEmail: config.alertEmail,
    logRetentionDays: config.logRetentionDays,
    ttlDays: config.tableTtlDays,
    functionName: functionName(region),
    logGroupNames: logGroupNames(region),
    network: {
      subnetIds: monitoring.functionSubnetIds,
      securityGroupIds: [monitoring.functionSecurityGroup.id],
    },
    remoteWriteUrl: monitoring.remoteWriteUrl,
    release: releaseOf(config, region),
    tags,
  });
  return { region, names, service, monitoring };
});

const globalMonitoring = new GlobalMonitoring("calcburst-global-monitoring", {
  config,
  regions: services.map(({ region, monitoring }) => ({ region, monitoring })),
  grafanaAdminPassword: readGrafanaAdminPassword(),
  tags,
});

const routing = new LatencyRouting("api", {
  hostedZoneId: config.hostedZoneId,
  globalName: apiNames(config.domain, config.regions[0] ?? "").global,
  regions: services.map(({ region, names, service }) => ({
    region,
    regionalName: names.regional,
    globalTarget: service.globalTarget,
    regionalTarget: service.regionalTarget,
  })),
  healthCheckIntervalSeconds: config.healthCheckIntervalSeconds,
  healthCheckFailureThreshold: config.healthCheckFailureThreshold,
  tags,
});

export const globalUrl = routing.url;
export const regionalUrls = Object.fromEntries(services.map(({ region, service }) => [region, service.url]));
export const tableName = table.name;
export const healthCheckIds = Object.fromEntries(
  Object.entries(routing.healthChecks).map(([region, check]) => [region, check.id]),
);
/** For `aws ssm start-session --target <id> --document-name AWS-StartPortForwardingSession` (docs/DEPLOY.md). */
export const monitoringInstanceId = globalMonitoring.instance.id;
export const alertTopicArn = globalMonitoring.alertTopic.arn;
