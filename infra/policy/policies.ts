import type {
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
  name: "lambda-arm64-reserved-concurrency",
  description: "Every function runs on arm64 with reserved concurrency.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (args.type !== TYPES.function) return;
    const architectures = (args.props.architectures ?? []) as string[];
    if (architectures.length !== 1 || architectures[0] !== "arm64") {
      reportViolation(`${args.name}: architectures is ${JSON.stringify(architectures)}, not ["arm64"]`);
    }
    const reserved = args.props.reservedConcurrentExecutions as number | undefined;
    if (reserved === undefined || reserved < 0) reportViolation(`${args.name}: no reserved concurrency`);
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

export const policies: (ResourceValidationPolicy | StackValidationPolicy)[] = [
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
];
