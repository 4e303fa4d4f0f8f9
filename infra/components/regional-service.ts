import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { KILL_SWITCH_VARIABLE } from "../../shared/env.js";
import { HEALTH_ROUTE, LAMBDA_UNRESERVED_MINIMUM } from "../../shared/stack-config.js";
import { ACCESS_LOG_FORMAT } from "../access-log.js";
import { assumableBy } from "../iam.js";
import { CAPACITY_TAGS, HEALTH_ROUTE_KEY } from "../policy/policies.js";
import { canaryDeployments, liveAlias } from "./canary-release.js";

/** DESIGN.md §3, plus `$default` so an unknown route gets the function's problem+json 404. */
export const ROUTE_KEYS = [
  "POST /v1/calculations",
  "POST /v1/calculations/batch",
  "GET /v1/calculations/{id}",
  HEALTH_ROUTE_KEY,
  "$default",
] as const;

/** Service Quotas' code for Lambda's "Concurrent executions" per account and region. */
export const LAMBDA_CONCURRENCY_QUOTA_CODE = "L-B99A9384";

/**
 * What Lambda needs to place the function's network interfaces in the private subnets: the EC2
 * part of AWSLambdaVPCAccessExecutionRole, without its logs:* on every log group. EC2 offers no
 * resource-level permissions for the Describe actions, hence "*".
 */
export const FUNCTION_NETWORK_ACTIONS = [
  "ec2:CreateNetworkInterface",
  "ec2:DescribeNetworkInterfaces",
  "ec2:DescribeSubnets",
  "ec2:DeleteNetworkInterface",
  "ec2:AssignPrivateIpAddresses",
  "ec2:UnassignPrivateIpAddresses",
] as const;

/** Exactly the item actions functions/store.ts makes (infra/test/function-permissions.test.ts holds it to that). */
export const FUNCTION_TABLE_ACTIONS = ["dynamodb:PutItem", "dynamodb:GetItem"] as const;

/** The custom-domain target a Route 53 alias record points at. */
export interface AliasTarget {
  name: pulumi.Output<string>;
  zoneId: pulumi.Output<string>;
}

export interface RegionalServiceArgs {
  region: string;
  /** `api.<domain>`, served by every region behind latency routing. */
  globalName: string;
  /** `<region>.api.<domain>`, this region alone; the health check targets it. */
  regionalName: string;
  /** The region's issued certificate for both names (ApiCertificates). */
  certificateArn: pulumi.Input<string>;
  tableName: pulumi.Input<string>;
  /** This region's replica: the only table the function may touch. */
  tableReplicaArn: pulumi.Input<string>;
  /** The other regions, whose replication latency from this region is alarmed on. */
  replicationPeers: string[];
  bundle: pulumi.asset.Archive;
  memoryMb: number;
  timeoutSeconds: number;
  reservedConcurrency: number;
  throttlingRateLimit: number;
  throttlingBurstLimit: number;
  /** The whole service's peak and the latency objective this region is sized for (tagged, for the policy pack). */
  capacity: { peakRequestsPerSecond: number; latencyObjectiveMs: number };
  /** Who the region's CloudWatch alarms e-mail. */
  alertEmail: string;
  logRetentionDays: number;
  ttlDays: number;
  /** The drill's kill switch; false in normal operation. */
  regionDisabled?: boolean;
  /** The function's name, fixed so the CloudWatch exporter and the drill can name it. */
  functionName: string;
  /** The log groups' names; like the function's, they carry the stack. */
  logGroupNames: { function: string; access: string };
  /** The private subnets and security group the function runs in (RegionalMonitoring's VPC). */
  network: { subnetIds: pulumi.Input<string>[]; securityGroupIds: pulumi.Input<string>[] };
  /** The regional Prometheus's remote-write receiver. */
  remoteWriteUrl: pulumi.Input<string>;
  /** The region's CodeDeploy names (shared/release.ts) and its release wave, 1 for the first. */
  release: { application: string; deploymentGroup: string; wave: number };
  tags?: Record<string, string>;
}

/** The alarm thresholds; the SLO in docs/ARCHITECTURE.md is where they come from. */
export const ALARM_THRESHOLDS = {
  serverErrorRatePercent: 1,
  p99LatencyMs: 1000,
  throttles: 1,
  replicationLatencyMs: 1000,
} as const;

/**
 * One region of the service: the function (from the esbuild bundle), its least-privilege role,
 * the HTTP API with throttling and access logs, two custom domain names (the global name and the
 * region's own, on the region's certificate from ApiCertificates), and the region's alarms.
 */
export class RegionalService extends pulumi.ComponentResource {
  readonly function: aws.lambda.Function;
  /** What API Gateway invokes; a release moves it (docs/RELEASING.md). */
  readonly liveAlias: aws.lambda.Alias;
  readonly deploymentGroup: aws.codedeploy.DeploymentGroup;
  readonly api: aws.apigatewayv2.Api;
  readonly globalTarget: AliasTarget;
  readonly regionalTarget: AliasTarget;
  readonly url: pulumi.Output<string>;
  readonly alarms: aws.cloudwatch.MetricAlarm[] = [];
  /** The alarms a release watches: this region's own health (replication to peers is not the release's doing). */
  readonly releaseAlarms: aws.cloudwatch.MetricAlarm[] = [];

  constructor(name: string, args: RegionalServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("calcburst:service:RegionalService", name, {}, opts);
    const { region } = args;
    const parent = { parent: this };
    const tags = { ...args.tags, "calcburst:region": region };
    const capacityTags = {
      [CAPACITY_TAGS.peakRequestsPerSecond]: String(args.capacity.peakRequestsPerSecond),
      [CAPACITY_TAGS.latencyObjectiveMs]: String(args.capacity.latencyObjectiveMs),
    };

    const functionLogs = new aws.cloudwatch.LogGroup(
      `${name}-function-logs`,
      { region, name: args.logGroupNames.function, retentionInDays: args.logRetentionDays, tags },
      parent,
    );

    const role = new aws.iam.Role(
      `${name}-role`,
      {
        assumeRolePolicy: assumableBy("lambda.amazonaws.com"),
        tags,
      },
      parent,
    );
    const policy = new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        role: role.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "CalculationsReplica",
              Effect: "Allow",
              Action: [...FUNCTION_TABLE_ACTIONS],
              Resource: args.tableReplicaArn,
            },
            {
              Sid: "OwnLogGroup",
              Effect: "Allow",
              Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
              Resource: pulumi.interpolate`${functionLogs.arn}:*`,
            },
            {
              Sid: "NetworkInterfacesInTheVpc",
              Effect: "Allow",
              Action: [...FUNCTION_NETWORK_ACTIONS],
              Resource: "*",
            },
          ],
        }),
      },
      parent,
    );

    // Reserving concurrency fails when it would leave the account fewer than 100 unreserved
    // executions in the region; new accounts start with quotas far below that. Checked here, at
    // preview, with the quota's number in the message, instead of failing halfway through an up.
    const quota = aws.servicequotas.getServiceQuotaOutput(
      { region, serviceCode: "lambda", quotaCode: LAMBDA_CONCURRENCY_QUOTA_CODE },
      parent,
    );
    const reservedConcurrency = quota.value.apply((value) => {
      const needed = args.reservedConcurrency + LAMBDA_UNRESERVED_MINIMUM;
      if (value < needed) {
        throw new Error(
          `${name}: the account's Lambda concurrency quota in ${region} is ${value}; reserving ${args.reservedConcurrency} for ${args.functionName} needs at least ${needed} (AWS keeps ${LAMBDA_UNRESERVED_MINIMUM} unreserved), plus whatever other functions in the account reserve there. Ask for more "Concurrent executions" (${LAMBDA_CONCURRENCY_QUOTA_CODE}) in Service Quotas for ${region}, or lower peakRequestsPerSecond (docs/DEPLOY.md#capacity)`,
        );
      }
      return args.reservedConcurrency;
    });

    this.function = new aws.lambda.Function(
      `${name}-function`,
      {
        region,
        name: args.functionName,
        role: role.arn,
        code: args.bundle,
        vpcConfig: args.network,
        handler: "handler.handler",
        // Every code or configuration change becomes a version; only the live alias serves traffic.
        publish: true,
        runtime: "nodejs22.x",
        architectures: ["arm64"],
        memorySize: args.memoryMb,
        timeout: args.timeoutSeconds,
        reservedConcurrentExecutions: reservedConcurrency,
        loggingConfig: { logFormat: "JSON", logGroup: functionLogs.name },
        environment: {
          variables: {
            TABLE_NAME: args.tableName,
            CALCBURST_TTL_DAYS: String(args.ttlDays),
            [KILL_SWITCH_VARIABLE]: String(args.regionDisabled ?? false),
            CALCBURST_REMOTE_WRITE_URL: args.remoteWriteUrl,
            NODE_OPTIONS: "--enable-source-maps",
          },
        },
        tags: { ...tags, ...capacityTags },
      },
      // The first invocations must find the role's policy in place, not race its creation.
      { parent: this, dependsOn: [functionLogs, policy] },
    );
    this.liveAlias = liveAlias(name, { region, fn: this.function }, parent);

    const accessLogs = new aws.cloudwatch.LogGroup(
      `${name}-access-logs`,
      { region, name: args.logGroupNames.access, retentionInDays: args.logRetentionDays, tags },
      parent,
    );
    this.api = new aws.apigatewayv2.Api(
      `${name}-api`,
      {
        region,
        protocolType: "HTTP",
        description: `CalcBurst API in ${region}`,
        // Clients must come through the custom domains, where TLS 1.2 is enforced.
        disableExecuteApiEndpoint: true,
        tags,
      },
      parent,
    );
    // A permission on the function does not cover its aliases: API Gateway invokes `live`, so
    // the permission names it.
    const invokePermission = new aws.lambda.Permission(
      `${name}-invoke-permission`,
      {
        region,
        action: "lambda:InvokeFunction",
        function: this.function.name,
        qualifier: this.liveAlias.name,
        principal: "apigateway.amazonaws.com",
        sourceArn: pulumi.interpolate`${this.api.executionArn}/*/*`,
      },
      parent,
    );
    const integration = new aws.apigatewayv2.Integration(
      `${name}-integration`,
      {
        region,
        apiId: this.api.id,
        integrationType: "AWS_PROXY",
        integrationUri: this.liveAlias.invokeArn,
        payloadFormatVersion: "2.0",
        timeoutMilliseconds: Math.min(30_000, args.timeoutSeconds * 1000 + 1000),
      },
      // Switching an existing API to the alias must not precede the alias's permission: until it
      // exists, every request would be refused.
      { parent: this, dependsOn: [invokePermission] },
    );
    const routes = ROUTE_KEYS.map(
      (routeKey, index) =>
        new aws.apigatewayv2.Route(
          `${name}-route-${index}`,
          { region, apiId: this.api.id, routeKey, target: pulumi.interpolate`integrations/${integration.id}` },
          parent,
        ),
    );
    const stage = new aws.apigatewayv2.Stage(
      `${name}-stage`,
      {
        region,
        apiId: this.api.id,
        name: "$default",
        autoDeploy: true,
        defaultRouteSettings: {
          throttlingRateLimit: args.throttlingRateLimit,
          throttlingBurstLimit: args.throttlingBurstLimit,
          detailedMetricsEnabled: true,
        },
        // /health's own throttling: a burst of API traffic cannot take the tokens the health
        // checks need, and a flood of /health cannot take the API's Lambda concurrency.
        routeSettings: [
          {
            routeKey: HEALTH_ROUTE_KEY,
            throttlingRateLimit: HEALTH_ROUTE.rateLimit,
            throttlingBurstLimit: HEALTH_ROUTE.burstLimit,
            detailedMetricsEnabled: true,
          },
        ],
        accessLogSettings: {
          destinationArn: accessLogs.arn,
          format: ACCESS_LOG_FORMAT,
        },
        tags: { ...tags, ...capacityTags },
      },
      { parent: this, dependsOn: routes },
    );

    const customDomain = (suffix: string, domainName: string): AliasTarget => {
      const domain = new aws.apigatewayv2.DomainName(
        `${name}-domain-${suffix}`,
        {
          region,
          domainName,
          domainNameConfiguration: {
            certificateArn: args.certificateArn,
            endpointType: "REGIONAL",
            securityPolicy: "TLS_1_2",
            ipAddressType: "dualstack",
          },
          tags,
        },
        parent,
      );
      // The stage's output, not its name: API Gateway refuses a mapping to a stage that does not
      // exist yet, and on a first deploy the stage waits for the function, its alias and routes.
      new aws.apigatewayv2.ApiMapping(
        `${name}-mapping-${suffix}`,
        { region, apiId: this.api.id, domainName: domain.id, stage: stage.name },
        { parent: this, dependsOn: [domain] },
      );
      return {
        name: domain.domainNameConfiguration.targetDomainName.apply((target) => target ?? ""),
        zoneId: domain.domainNameConfiguration.hostedZoneId.apply((zone) => zone ?? ""),
      };
    };
    this.globalTarget = customDomain("global", args.globalName);
    this.regionalTarget = customDomain("regional", args.regionalName);
    this.url = pulumi.output(`https://${args.regionalName}`);

    this.createAlarms(name, args);
    this.deploymentGroup = canaryDeployments(
      name,
      {
        region,
        fn: this.function,
        alias: this.liveAlias,
        application: args.release.application,
        deploymentGroup: args.release.deploymentGroup,
        alarms: this.releaseAlarms,
        wave: args.release.wave,
        tags,
      },
      parent,
    );
    this.registerOutputs({
      url: this.url,
      functionName: this.function.name,
      apiId: this.api.id,
      liveAlias: this.liveAlias.arn,
      deploymentGroup: this.deploymentGroup.deploymentGroupName,
    });
  }

  private createAlarms(name: string, args: RegionalServiceArgs): void {
    const { region } = args;
    // CloudWatch alarms notify topics in their own region: each region has one, and it e-mails
    // the same people the global alerts reach.
    const topic = new aws.sns.Topic(`${name}-alarms`, { region, tags: args.tags }, { parent: this });
    new aws.sns.TopicSubscription(
      `${name}-alarms-email`,
      { region, topic: topic.arn, protocol: "email", endpoint: args.alertEmail },
      { parent: this },
    );
    const common = {
      region,
      alarmActions: [topic.arn],
      okActions: [topic.arn],
      treatMissingData: "notBreaching",
      tags: args.tags,
    };
    const apiDimensions = { ApiId: this.api.id, Stage: "$default" };
    this.releaseAlarms.push(
      new aws.cloudwatch.MetricAlarm(
        `${name}-alarm-5xx-rate`,
        {
          ...common,
          alarmDescription: `CalcBurst ${region}: more than ${ALARM_THRESHOLDS.serverErrorRatePercent}% of requests answered 5xx for 3 minutes`,
          comparisonOperator: "GreaterThanThreshold",
          threshold: ALARM_THRESHOLDS.serverErrorRatePercent,
          evaluationPeriods: 3,
          metricQueries: [
            {
              id: "errors",
              metric: {
                namespace: "AWS/ApiGateway",
                metricName: "5xx",
                dimensions: apiDimensions,
                period: 60,
                stat: "Sum",
              },
            },
            {
              id: "requests",
              metric: {
                namespace: "AWS/ApiGateway",
                metricName: "Count",
                dimensions: apiDimensions,
                period: 60,
                stat: "Sum",
              },
            },
            { id: "rate", expression: "100 * errors / MAX([requests, 1])", label: "5xx %", returnData: true },
          ],
        },
        { parent: this },
      ),
      new aws.cloudwatch.MetricAlarm(
        `${name}-alarm-p99-latency`,
        {
          ...common,
          alarmDescription: `CalcBurst ${region}: p99 latency above ${ALARM_THRESHOLDS.p99LatencyMs} ms for 3 minutes`,
          namespace: "AWS/ApiGateway",
          metricName: "Latency",
          dimensions: apiDimensions,
          extendedStatistic: "p99",
          period: 60,
          evaluationPeriods: 3,
          comparisonOperator: "GreaterThanThreshold",
          threshold: ALARM_THRESHOLDS.p99LatencyMs,
        },
        { parent: this },
      ),
      new aws.cloudwatch.MetricAlarm(
        `${name}-alarm-throttles`,
        {
          ...common,
          alarmDescription: `CalcBurst ${region}: the function is throttled (reserved concurrency exhausted)`,
          namespace: "AWS/Lambda",
          metricName: "Throttles",
          dimensions: { FunctionName: this.function.name },
          statistic: "Sum",
          period: 60,
          evaluationPeriods: 1,
          comparisonOperator: "GreaterThanOrEqualToThreshold",
          threshold: ALARM_THRESHOLDS.throttles,
        },
        { parent: this },
      ),
    );
    this.alarms.push(
      ...this.releaseAlarms,
      ...args.replicationPeers.map(
        (peer) =>
          new aws.cloudwatch.MetricAlarm(
            `${name}-alarm-replication-${peer}`,
            {
              ...common,
              alarmDescription: `CalcBurst ${region}: replication to ${peer} takes longer than ${ALARM_THRESHOLDS.replicationLatencyMs} ms`,
              namespace: "AWS/DynamoDB",
              metricName: "ReplicationLatency",
              dimensions: { TableName: args.tableName, ReceivingRegion: peer },
              statistic: "Average",
              period: 60,
              evaluationPeriods: 5,
              comparisonOperator: "GreaterThanThreshold",
              threshold: ALARM_THRESHOLDS.replicationLatencyMs,
            },
            { parent: this },
          ),
      ),
    );
  }
}
