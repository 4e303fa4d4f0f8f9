import type {
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";

/**
 * CalcBurst's guardrails as plain policies, kept apart from the PolicyPack (index.ts) so tests
 * can call each validation in-process with crafted resources.
 */

const TYPES = {
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  policy: "aws:iam/policy:Policy",
  role: "aws:iam/role:Role",
  table: "aws:dynamodb/table:Table",
  domainName: "aws:apigatewayv2/domainName:DomainName",
  record: "aws:route53/record:Record",
  function: "aws:lambda/function:Function",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  securityGroup: "aws:ec2/securityGroup:SecurityGroup",
  ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  instance: "aws:ec2/instance:Instance",
  volume: "aws:ebs/volume:Volume",
  volumeAttachment: "aws:ec2/volumeAttachment:VolumeAttachment",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  topic: "aws:sns/topic:Topic",
  subscription: "aws:sns/topicSubscription:TopicSubscription",
  stage: "aws:apigatewayv2/stage:Stage",
  integration: "aws:apigatewayv2/integration:Integration",
  alias: "aws:lambda/alias:Alias",
  deploymentGroup: "aws:codedeploy/deploymentGroup:DeploymentGroup",
} as const;

/**
 * Tags the program puts on each region's function and stage: the peak the region must carry and
 * the latency objective, which together fix the capacity the region needs. This file has no
 * imports of its own (the Pulumi CLI runs the pack with ts-node), so the program imports them
 * from here.
 */
export const CAPACITY_TAGS = {
  peakRequestsPerSecond: "calcburst:peak-requests-per-second",
  latencyObjectiveMs: "calcburst:latency-objective-ms",
} as const;

/**
 * The tag that carries a region's release wave (1 for the first) on its CodeDeploy deployment
 * group, so the pack can check the waves the stack deploys (docs/RELEASING.md).
 */
export const RELEASE_WAVE_TAG = "calcburst:release-wave";

/** The route Route 53 and the blackbox exporter probe: it needs route throttling of its own. */
export const HEALTH_ROUTE_KEY = "GET /health";

/** Prometheus, Alertmanager, Grafana and the blackbox exporter: never open to the internet. */
export const MONITORING_PORTS = [9090, 9093, 3000, 9115] as const;

const OPEN_TO_THE_WORLD = ["0.0.0.0/0", "::/0"];

interface IngressRule {
  protocol?: string;
  fromPort?: number;
  toPort?: number;
  cidrBlocks?: string[];
  ipv6CidrBlocks?: string[];
}

/** The monitoring ports a rule opens to the whole internet. */
function openMonitoringPorts(rule: IngressRule): number[] {
  const everyone = [...(rule.cidrBlocks ?? []), ...(rule.ipv6CidrBlocks ?? [])].some((block) =>
    OPEN_TO_THE_WORLD.includes(block),
  );
  if (!everyone) return [];
  const allPorts = rule.protocol === "-1" || rule.protocol === "all";
  const from = rule.fromPort ?? 0;
  const to = rule.toPort ?? 65_535;
  return MONITORING_PORTS.filter((port) => allPorts || (from <= port && port <= to));
}

interface Statement {
  Effect?: string;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
}

const asList = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

function statementsOf(document: unknown): Statement[] {
  const parsed: unknown = typeof document === "string" ? JSON.parse(document) : document;
  if (typeof parsed !== "object" || parsed === null) return [];
  const statement = (parsed as { Statement?: Statement | Statement[] }).Statement;
  return statement === undefined ? [] : Array.isArray(statement) ? statement : [statement];
}

/** An action pattern that covers at least one DynamoDB action. */
const touchesDynamoDb = (action: string) => /^(\*|dynamodb:.*)$/i.test(action);

function checkPolicyDocument(document: unknown, where: string, reportViolation: ReportViolation): void {
  for (const statement of statementsOf(document)) {
    if (statement.Effect !== undefined && statement.Effect !== "Allow") continue;
    const actions = asList(statement.Action);
    if (statement.NotAction !== undefined) {
      reportViolation(`${where}: NotAction allows every DynamoDB action it does not name; list the actions instead`);
      continue;
    }
    const dynamoActions = actions.filter(touchesDynamoDb);
    if (dynamoActions.length === 0) continue;
    const wildcardActions = dynamoActions.filter((action) => action.includes("*"));
    if (wildcardActions.length > 0) {
      reportViolation(
        `${where}: wildcard action ${wildcardActions.join(", ")} on DynamoDB; list the item actions used`,
      );
    }
    const wildcardResources = asList(statement.Resource).filter((resource) => resource.includes("*"));
    if (wildcardResources.length > 0) {
      reportViolation(
        `${where}: DynamoDB actions on wildcard resource ${wildcardResources.join(", ")}; name the table (replica) ARN`,
      );
    }
  }
}

export const noDynamoDbWildcards: ResourceValidationPolicy = {
  name: "no-dynamodb-wildcards",
  description: "No IAM policy allows a wildcard action or resource on DynamoDB.",
  enforcementLevel: "mandatory",
  validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
    if (args.type === TYPES.rolePolicy || args.type === TYPES.policy) {
      checkPolicyDocument(args.props.policy, `${args.name}`, reportViolation);
    } else if (args.type === TYPES.role) {
      for (const inline of (args.props.inlinePolicies ?? []) as { name?: string; policy?: string }[]) {
        if (inline.policy !== undefined)
          checkPolicyDocument(inline.policy, `${args.name} inline ${inline.name}`, reportViolation);
      }
    }
  },
};

export const tablePointInTimeRecovery: ResourceValidationPolicy = {
  name: "dynamodb-pitr-everywhere",
  description: "Point-in-time recovery is on for the table and every replica.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (args.type !== TYPES.table) return;
    if (args.props.pointInTimeRecovery?.enabled !== true)
      reportViolation(`${args.name}: point-in-time recovery is off`);
    for (const replica of (args.props.replicas ?? []) as { regionName?: string; pointInTimeRecovery?: boolean }[]) {
      if (replica.pointInTimeRecovery !== true) {
        reportViolation(`${args.name}: the replica in ${replica.regionName} has point-in-time recovery off`);
      }
    }
  },
};

export const tableEncryption: ResourceValidationPolicy = {
  name: "dynamodb-encryption-key",
  description:
    "Every table's encryption key is a choice: the AWS-owned key (enabled false or unset) or a named customer-managed key, never the AWS-managed key by default.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (args.type !== TYPES.table) return;
    const encryption = args.props.serverSideEncryption as { enabled?: boolean; kmsKeyArn?: string } | undefined;
    if (encryption?.enabled === true && !encryption.kmsKeyArn) {
      reportViolation(
        `${args.name}: serverSideEncryption.enabled true without a kmsKeyArn selects the AWS-managed key, which KMS charges for; set enabled false for the AWS-owned key (the table is encrypted either way) or name a customer-managed key`,
      );
    }
  },
};

/**
 * MRSC's region sets. The pack imports nothing (see CAPACITY_TAGS), so this is a copy of
 * shared/stack-config.ts's MRSC_REGION_SETS; infra/test/policy-mrsc.test.ts holds the two equal.
 */
export const MRSC_REGION_SETS_COPY: readonly (readonly string[])[] = [
  ["us-east-1", "us-east-2", "us-west-2"],
  ["eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1"],
  ["ap-northeast-1", "ap-northeast-2", "ap-northeast-3"],
];

export const tableStrongConsistency: ResourceValidationPolicy = {
  name: "dynamodb-mrsc-shape",
  description:
    "A multi-Region strongly consistent table is what AWS accepts: every replica STRONG, three regions or two and a witness, all in one region set, no TTL; a witness only with MRSC.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (args.type !== TYPES.table) return;
    const replicas = (args.props.replicas ?? []) as { regionName?: string; consistencyMode?: string }[];
    const witness = (args.props.globalTableWitness as { regionName?: string } | undefined)?.regionName;
    const strong = replicas.filter((replica) => replica.consistencyMode === "STRONG").length;
    if (strong === 0) {
      if (witness !== undefined)
        reportViolation(`${args.name}: a global table witness (${witness}) needs MRSC replicas`);
      return;
    }
    if (strong !== replicas.length) {
      reportViolation(
        `${args.name}: ${strong} of ${replicas.length} replicas are STRONG; MRSC takes every replica or none`,
      );
    }
    if ((args.props.ttl as { enabled?: boolean } | undefined)?.enabled === true) {
      reportViolation(`${args.name}: TTL is on, and AWS supports no TTL on an MRSC table`);
    }
    const regions = [args.props.region as string | undefined, ...replicas.map((replica) => replica.regionName)].filter(
      (region): region is string => region !== undefined,
    );
    const layoutAccepted =
      witness === undefined ? regions.length === 3 : regions.length === 2 && !regions.includes(witness);
    if (!layoutAccepted) {
      reportViolation(
        `${args.name}: MRSC needs three regions, or two and a witness in another region; it has ${regions.join(", ")}${witness === undefined ? "" : ` and witness ${witness}`}`,
      );
    }
    const all = [...regions, ...(witness === undefined ? [] : [witness])];
    if (!MRSC_REGION_SETS_COPY.some((set) => all.every((region) => set.includes(region)))) {
      reportViolation(`${args.name}: ${all.join(", ")} are not in one MRSC region set (US, EU or AP)`);
    }
  },
};

export const domainTls12: ResourceValidationPolicy = {
  name: "api-domain-tls-1-2",
  description: "Every API custom domain enforces TLS 1.2.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (args.type !== TYPES.domainName) return;
    const policy = args.props.domainNameConfiguration?.securityPolicy;
    if (policy !== "TLS_1_2") reportViolation(`${args.name}: securityPolicy is ${policy ?? "unset"}, not TLS_1_2`);
  },
};

export const latencyRecordsHealthChecked: ResourceValidationPolicy = {
  name: "latency-records-health-checked",
  description: "Every latency-routed record carries a health check, so a failing region leaves the answers.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (args.type !== TYPES.record) return;
    const latency = (args.props.latencyRoutingPolicies ?? []) as unknown[];
    if (latency.length > 0 && !args.props.healthCheckId) {
      reportViolation(`${args.name}: a latency record (${args.props.setIdentifier}) without a healthCheckId`);
    }
  },
};

export const lambdaShape: ResourceValidationPolicy = {
  name: "lambda-arm64",
  description: "Every function runs on arm64 (Graviton).",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (args.type !== TYPES.function) return;
    const architectures = (args.props.architectures ?? []) as string[];
    if (architectures.length !== 1 || architectures[0] !== "arm64") {
      reportViolation(`${args.name}: architectures is ${JSON.stringify(architectures)}, not ["arm64"]`);
    }
  },
};

export const lambdaLogRetention: StackValidationPolicy = {
  name: "lambda-log-retention",
  description: "Every function logs to a log group of the stack that has a retention.",
  enforcementLevel: "mandatory",
  validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
    const retained = new Set(
      args.resources
        .filter((resource) => resource.type === TYPES.logGroup && (resource.props.retentionInDays ?? 0) > 0)
        .map((resource) => resource.props.name as string),
    );
    for (const fn of args.resources.filter((resource) => resource.type === TYPES.function)) {
      const logGroup = fn.props.loggingConfig?.logGroup as string | undefined;
      if (logGroup === undefined) {
        reportViolation(`${fn.name}: no loggingConfig.logGroup, so it logs to a group without retention`, fn.urn);
      } else if (!retained.has(logGroup)) {
        reportViolation(`${fn.name}: its log group ${logGroup} has no retention in this stack`, fn.urn);
      }
    }
  },
};

export const noPublicMonitoringPorts: ResourceValidationPolicy = {
  name: "no-public-monitoring-ports",
  description: "No security group opens a Prometheus, Alertmanager, Grafana or blackbox port to 0.0.0.0/0 or ::/0.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const rules: IngressRule[] =
      args.type === TYPES.securityGroup
        ? ((args.props.ingress ?? []) as IngressRule[])
        : args.type === TYPES.ingressRule
          ? [
              {
                protocol: args.props.ipProtocol,
                fromPort: args.props.fromPort,
                toPort: args.props.toPort,
                cidrBlocks: args.props.cidrIpv4 === undefined ? [] : [args.props.cidrIpv4],
                ipv6CidrBlocks: args.props.cidrIpv6 === undefined ? [] : [args.props.cidrIpv6],
              },
            ]
          : [];
    for (const rule of rules) {
      const ports = openMonitoringPorts(rule);
      if (ports.length > 0) {
        reportViolation(
          `${args.name}: ports ${ports.join(", ")} are open to the internet; admit the callers' security groups or blocks`,
        );
      }
    }
  },
};

export const instancesUseImdsV2: ResourceValidationPolicy = {
  name: "ec2-imdsv2",
  description: "Every instance requires IMDSv2 session tokens for its metadata.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (args.type !== TYPES.instance) return;
    const tokens = args.props.metadataOptions?.httpTokens;
    if (tokens !== "required")
      reportViolation(`${args.name}: metadataOptions.httpTokens is ${tokens ?? "unset"}, not required`);
  },
};

export const encryptedVolumes: ResourceValidationPolicy = {
  name: "encrypted-volumes",
  description: "Every EBS volume, root or data, is encrypted.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (args.type === TYPES.volume && args.props.encrypted !== true) {
      reportViolation(`${args.name}: encrypted must be true`);
    }
    if (args.type !== TYPES.instance) return;
    if (args.props.rootBlockDevice?.encrypted !== true)
      reportViolation(`${args.name}: the root volume is not encrypted`);
    for (const device of (args.props.ebsBlockDevices ?? []) as { deviceName?: string; encrypted?: boolean }[]) {
      if (device.encrypted !== true)
        reportViolation(`${args.name}: ${device.deviceName ?? "a block device"} is not encrypted`);
    }
  },
};

/** The peak and latency objective a function or stage is tagged with, or why it cannot be read. */
function declaredCapacity(resource: PolicyResource): { peak: number; objectiveMs: number } | string {
  const tags = (resource.props.tags ?? {}) as Record<string, string>;
  const peak = Number(tags[CAPACITY_TAGS.peakRequestsPerSecond]);
  const objectiveMs = Number(tags[CAPACITY_TAGS.latencyObjectiveMs]);
  if (!(peak > 0) || !(objectiveMs > 0)) {
    return `${resource.name}: tag it with ${CAPACITY_TAGS.peakRequestsPerSecond} and ${CAPACITY_TAGS.latencyObjectiveMs}, so its capacity can be checked`;
  }
  return { peak, objectiveMs };
}

export const capacityPerRegion: StackValidationPolicy = {
  name: "capacity-per-region",
  description:
    "Every region can carry the whole peak: stage throttle at least the peak, reserved concurrency at least peak × latency objective (or unreserved), and /health throttled on its own.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    for (const fn of args.resources.filter((resource) => resource.type === TYPES.function)) {
      const capacity = declaredCapacity(fn);
      if (typeof capacity === "string") {
        reportViolation(capacity, fn.urn);
        continue;
      }
      const reserved = fn.props.reservedConcurrentExecutions as number | undefined;
      const needed = Math.ceil((capacity.peak * capacity.objectiveMs) / 1000);
      // -1 (or unset) is unreserved: the function may use the account's unreserved pool.
      if (reserved !== undefined && reserved >= 0 && reserved < needed) {
        reportViolation(
          `${fn.name}: reserved concurrency ${reserved} cannot carry the peak of ${capacity.peak} requests per second within ${capacity.objectiveMs} ms (${needed} needed)`,
          fn.urn,
        );
      }
    }
    for (const stage of args.resources.filter((resource) => resource.type === TYPES.stage)) {
      const capacity = declaredCapacity(stage);
      if (typeof capacity === "string") {
        reportViolation(capacity, stage.urn);
        continue;
      }
      const rate = stage.props.defaultRouteSettings?.throttlingRateLimit as number | undefined;
      if (rate !== undefined && rate < capacity.peak) {
        reportViolation(
          `${stage.name}: the stage throttles at ${rate} requests per second, below the peak of ${capacity.peak} one region must carry when the others fail`,
          stage.urn,
        );
      }
      const routes = (stage.props.routeSettings ?? []) as { routeKey?: string; throttlingRateLimit?: number }[];
      if (!routes.some((route) => route.routeKey === HEALTH_ROUTE_KEY && route.throttlingRateLimit !== undefined)) {
        reportViolation(
          `${stage.name}: ${HEALTH_ROUTE_KEY} has no route throttling of its own, so a burst on the API can fail the health checks`,
          stage.urn,
        );
      }
    }
  },
};

export const alarmsReachSomeone: StackValidationPolicy = {
  name: "alarms-reach-a-subscriber",
  description:
    "Every CloudWatch alarm notifies an SNS topic, and every topic of the stack it notifies has a subscription.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const subscriptions = args.resources.filter((resource) => resource.type === TYPES.subscription);
    const subscribed = (topic: PolicyResource) =>
      subscriptions.some((subscription) =>
        (subscription.propertyDependencies.topic ?? []).some((dependency) => dependency.urn === topic.urn),
      );
    for (const alarm of args.resources.filter((resource) => resource.type === TYPES.alarm)) {
      if (asList(alarm.props.alarmActions as string[] | undefined).length === 0) {
        reportViolation(`${alarm.name}: no alarmActions, so the alarm notifies nobody`, alarm.urn);
        continue;
      }
      const topics = (alarm.propertyDependencies.alarmActions ?? []).filter((action) => action.type === TYPES.topic);
      for (const topic of topics.filter((one) => !subscribed(one))) {
        reportViolation(
          `${alarm.name}: its topic ${topic.name} has no subscription, so the alarm reaches nobody`,
          alarm.urn,
        );
      }
    }
  },
};

const recordKey = (props: Record<string, unknown>): string | undefined => {
  const name = props.name;
  if (typeof name !== "string" || name === "") return undefined;
  return [props.zoneId, name.toLowerCase().replace(/\.$/, ""), props.type, props.setIdentifier ?? ""].join(" ");
};

export const recordsOwnedOnce: StackValidationPolicy = {
  name: "route53-records-owned-once",
  description:
    "No Route 53 record (zone, name, type, set identifier) is owned by two resources, and none takes over an existing record with allowOverwrite.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const owners = new Map<string, string[]>();
    for (const record of args.resources.filter((resource) => resource.type === TYPES.record)) {
      if (record.props.allowOverwrite === true) {
        reportViolation(
          `${record.name}: allowOverwrite takes over whatever record is there, including one another resource owns and will delete`,
          record.urn,
        );
      }
      const key = recordKey(record.props);
      if (key !== undefined) owners.set(key, [...(owners.get(key) ?? []), record.name]);
    }
    for (const [key, names] of owners) {
      if (names.length > 1) {
        reportViolation(
          `${names.join(", ")} own the same record (${key}): deleting any one of them deletes it for all`,
        );
      }
    }
  },
};

export const volumesSurviveReplacement: StackValidationPolicy = {
  name: "volume-attachments-survive-replacement",
  description:
    "A volume attachment and its instance are deleted before they are replaced: a volume attaches to one instance at a time.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    for (const attachment of args.resources.filter((resource) => resource.type === TYPES.volumeAttachment)) {
      if (attachment.opts.deleteBeforeReplace !== true) {
        reportViolation(
          `${attachment.name}: without deleteBeforeReplace, its replacement attaches the volume while the old attachment holds it (VolumeInUse)`,
          attachment.urn,
        );
      }
      const instances = (attachment.propertyDependencies.instanceId ?? []).filter(
        (dependency) => dependency.type === TYPES.instance,
      );
      for (const instance of instances.filter((one) => one.opts.deleteBeforeReplace !== true)) {
        reportViolation(
          `${instance.name}: without deleteBeforeReplace, its replacement is created while the old instance still holds the volume ${attachment.name} attaches`,
          instance.urn,
        );
      }
    }
  },
};

/** What the alias must leave to the release: the version it serves and the canary's weights. */
const RELEASE_OWNED_ALIAS_FIELDS = ["functionVersion", "routingConfig"];

export const releasesThroughTheLiveAlias: StackValidationPolicy = {
  name: "releases-through-the-live-alias",
  description:
    "Functions publish versions; API Gateway invokes an alias whose version and weights pulumi up leaves to the release; every deployment group rolls back on its alarms.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    for (const fn of args.resources.filter((resource) => resource.type === TYPES.function)) {
      if (fn.props.publish !== true) {
        reportViolation(`${fn.name}: publish is not true, so there is no version to release or roll back to`, fn.urn);
      }
    }
    for (const alias of args.resources.filter((resource) => resource.type === TYPES.alias)) {
      const ignored = alias.opts.ignoreChanges ?? [];
      const missing = RELEASE_OWNED_ALIAS_FIELDS.filter((field) => !ignored.includes(field));
      if (missing.length > 0) {
        reportViolation(
          `${alias.name}: ignoreChanges lacks ${missing.join(", ")}, so pulumi up would move the alias and fight the release`,
          alias.urn,
        );
      }
    }
    for (const integration of args.resources.filter((resource) => resource.type === TYPES.integration)) {
      const sources = integration.propertyDependencies.integrationUri ?? [];
      if (sources.some((source) => source.type === TYPES.function)) {
        reportViolation(
          `${integration.name}: integrationUri is the function itself ($LATEST), so every pulumi up reaches all traffic at once; invoke an alias`,
          integration.urn,
        );
      }
    }
    const waves = new Map<number, string[]>();
    for (const group of args.resources.filter((resource) => resource.type === TYPES.deploymentGroup)) {
      const alarms = group.props.alarmConfiguration as { enabled?: boolean; alarms?: string[] } | undefined;
      if (alarms?.enabled !== true || (alarms.alarms ?? []).length === 0) {
        reportViolation(`${group.name}: no alarms enabled, so a bad canary is never stopped`, group.urn);
      }
      const rollback = group.props.autoRollbackConfiguration as { enabled?: boolean; events?: string[] } | undefined;
      if (rollback?.enabled !== true || !(rollback.events ?? []).includes("DEPLOYMENT_STOP_ON_ALARM")) {
        reportViolation(
          `${group.name}: automatic rollback on DEPLOYMENT_STOP_ON_ALARM is off, so an alarm stops the canary but leaves it serving`,
          group.urn,
        );
      }
      const wave = Number(((group.props.tags ?? {}) as Record<string, string>)[RELEASE_WAVE_TAG]);
      if (!Number.isInteger(wave) || wave < 1) {
        reportViolation(`${group.name}: tag it with ${RELEASE_WAVE_TAG} (1 for the first wave)`, group.urn);
      } else {
        waves.set(wave, [...(waves.get(wave) ?? []), group.name]);
      }
    }
    const last = Math.max(0, ...waves.keys());
    for (let wave = 1; wave <= last; wave++) {
      if (!waves.has(wave)) reportViolation(`release wave ${wave} holds no region: waves run 1, 2, … without a gap`);
    }
  },
};

export const policies: (ResourceValidationPolicy | StackValidationPolicy)[] = [
  tableStrongConsistency,
  noDynamoDbWildcards,
  tablePointInTimeRecovery,
  tableEncryption,
  domainTls12,
  latencyRecordsHealthChecked,
  lambdaShape,
  lambdaLogRetention,
  noPublicMonitoringPorts,
  instancesUseImdsV2,
  encryptedVolumes,
  capacityPerRegion,
  alarmsReachSomeone,
  recordsOwnedOnce,
  volumesSurviveReplacement,
  releasesThroughTheLiveAlias,
];
