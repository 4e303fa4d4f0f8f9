import type {
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import { beforeAll, expect, vi } from "vitest";
import {
  type MockOptions,
  type ProgramRun,
  type RecordedResource,
  type RegistrationOptions,
  runProgramUnderMocks,
} from "../../mock-runtime.js";
import { CAPACITY_TAGS, policies } from "../../policy/policies.js";

/** What `pulumi config set --secret grafanaAdminPassword …` holds in the tests. */
export const TEST_GRAFANA_PASSWORD = "test-grafana-admin-password";

/**
 * Loads infra/index.ts under mocks with these (namespaced) config values. The program is a
 * module, so each run loads a fresh copy of it: a second run in one file (another stack, or a
 * config the first refused) runs the program again instead of getting the first's result.
 */
export function runProgram(config: Record<string, unknown>, options: MockOptions = {}): Promise<ProgramRun> {
  vi.resetModules();
  return runProgramUnderMocks(
    { "calcburst:grafanaAdminPassword": TEST_GRAFANA_PASSWORD, ...config },
    () => import("../../index.js"),
    options,
  );
}

/**
 * How long one program run may take: 5–20 s on a quiet machine, and over 60 s (the suite's hook
 * deadline) measured while three other local clouds and test runs loaded the 2 cores.
 */
export const PROGRAM_RUN_DEADLINE_MS = 180_000;

/** One program run for a suite, made before its tests; returns a getter for it. */
export function useProgram(config: Record<string, unknown>, options: MockOptions = {}): () => ProgramRun {
  let run: ProgramRun | undefined;
  beforeAll(async () => {
    run = await runProgram(config, options);
  }, PROGRAM_RUN_DEADLINE_MS);
  return () => {
    if (run === undefined) throw new Error("the program has not run");
    return run;
  };
}

/** The tags the program puts on a function or stage for the capacity policy. */
export function capacityTags(peakRequestsPerSecond: number, latencyObjectiveMs: number): Record<string, string> {
  return {
    [CAPACITY_TAGS.peakRequestsPerSecond]: String(peakRequestsPerSecond),
    [CAPACITY_TAGS.latencyObjectiveMs]: String(latencyObjectiveMs),
  };
}

const urnOf = (type: string, name: string) => `urn:pulumi:test::calcburst::${type}::${name}`;

/** A resource as a test writes it by hand, with the options and dependencies it names. */
export function craftedResource(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  options: Partial<RegistrationOptions> = {},
): RecordedResource {
  return {
    type,
    name,
    inputs,
    state: inputs,
    custom: true,
    id: `${name}-id`,
    urn: urnOf(type, name),
    options: {
      parent: "",
      deleteBeforeReplace: false,
      ignoreChanges: [],
      dependencies: Object.values(options.propertyDependencies ?? {}).flat(),
      propertyDependencies: {},
      aliasNames: [],
      ...options,
    },
  };
}

export const ofType = (run: ProgramRun, type: string) => run.resources.filter((resource) => resource.type === type);

/** The one resource named `name`, failing the test if it is missing. */
export function named(run: ProgramRun, type: string, name: string): RecordedResource {
  const found = run.resources.find((resource) => resource.type === type && resource.name === name);
  expect(found, `${type} ${name} is registered`).toBeDefined();
  return found as RecordedResource;
}

/** Asserts what DESIGN.md and the issue require of one region, and returns its resources by role. */
export function assertRegion(run: ProgramRun, region: string, domain: string, stack = "prod"): void {
  const prefix = `calcburst-${region}`;
  named(run, "calcburst:service:RegionalService", prefix);

  const fn = named(run, "aws:lambda/function:Function", `${prefix}-function`).inputs;
  expect(fn).toMatchObject({
    region,
    runtime: "nodejs22.x",
    architectures: ["arm64"],
    handler: "handler.handler",
    loggingConfig: { logFormat: "JSON", logGroup: `/calcburst/${stack}/${region}/function` },
  });
  expect(fn.reservedConcurrentExecutions).toBeGreaterThan(0);
  const variables = (fn.environment as { variables: Record<string, string> }).variables;
  expect(variables.TABLE_NAME).toMatch(/^calculations-table/);
  expect(variables.CALCBURST_REGION_DISABLED).toBe("false");

  const policy = JSON.parse(String(named(run, "aws:iam/rolePolicy:RolePolicy", `${prefix}-policy`).inputs.policy)) as {
    Statement: { Action: string[]; Resource: string }[];
  };
  const tableStatement = policy.Statement.find((statement) =>
    statement.Action.some((action) => action.startsWith("dynamodb:")),
  );
  expect(tableStatement?.Action).toEqual(["dynamodb:PutItem", "dynamodb:GetItem"]);
  expect(tableStatement?.Resource).toMatch(new RegExp(`^arn:aws:dynamodb:${region}:\\d{12}:table/calculations-table`));
  named(run, "aws:iam/role:Role", `${prefix}-role`);

  expect(named(run, "aws:apigatewayv2/api:Api", `${prefix}-api`).inputs).toMatchObject({
    region,
    protocolType: "HTTP",
  });
  const routes = ofType(run, "aws:apigatewayv2/route:Route").filter((route) =>
    route.name.startsWith(`${prefix}-route-`),
  );
  expect(routes.map((route) => route.inputs.routeKey).sort()).toEqual(
    [
      "$default",
      "GET /health",
      "GET /v1/calculations/{id}",
      "POST /v1/calculations",
      "POST /v1/calculations/batch",
    ].sort(),
  );
  const stage = named(run, "aws:apigatewayv2/stage:Stage", `${prefix}-stage`).inputs;
  expect(stage).toMatchObject({ name: "$default", autoDeploy: true });
  expect((stage.defaultRouteSettings as Record<string, number>).throttlingRateLimit).toBeGreaterThan(0);
  expect((stage.accessLogSettings as { destinationArn: string }).destinationArn).toContain("access-logs");

  const certificate = named(run, "aws:acm/certificate:Certificate", `api-certificates-${region}`).inputs;
  expect(certificate).toMatchObject({
    region,
    domainName: `api.${domain}`,
    subjectAlternativeNames: [`${region}.api.${domain}`],
    validationMethod: "DNS",
  });
  named(run, "aws:acm/certificateValidation:CertificateValidation", `api-certificates-${region}-validated`);
  for (const suffix of ["global", "regional"]) {
    const domainName = named(run, "aws:apigatewayv2/domainName:DomainName", `${prefix}-domain-${suffix}`).inputs;
    expect(domainName).toMatchObject({
      region,
      domainName: suffix === "global" ? `api.${domain}` : `${region}.api.${domain}`,
      domainNameConfiguration: { endpointType: "REGIONAL", securityPolicy: "TLS_1_2" },
    });
    expect(named(run, "aws:apigatewayv2/apiMapping:ApiMapping", `${prefix}-mapping-${suffix}`).inputs).toMatchObject({
      region,
      stage: "$default",
    });
  }

  const healthCheck = named(run, "aws:route53/healthCheck:HealthCheck", `api-${region}-health-check`).inputs;
  expect(healthCheck).toMatchObject({
    type: "HTTPS",
    fqdn: `${region}.api.${domain}`,
    resourcePath: "/health",
    enableSni: true,
  });
  for (const type of ["a", "aaaa"]) {
    const record = named(run, "aws:route53/record:Record", `api-${region}-latency-${type}`).inputs;
    expect(record).toMatchObject({
      name: `api.${domain}`,
      type: type.toUpperCase(),
      setIdentifier: region,
      latencyRoutingPolicies: [{ region }],
      healthCheckId: `api-${region}-health-check-id`,
      aliases: [{ evaluateTargetHealth: true, name: `d-${prefix}-domain-global.execute-api.${region}.amazonaws.com` }],
    });
    expect(named(run, "aws:route53/record:Record", `api-${region}-regional-${type}`).inputs).toMatchObject({
      name: `${region}.api.${domain}`,
      type: type.toUpperCase(),
    });
  }

  const alarms = ofType(run, "aws:cloudwatch/metricAlarm:MetricAlarm").filter((alarm) =>
    alarm.name.startsWith(`${prefix}-alarm-`),
  );
  const alarmNames = alarms.map((alarm) => alarm.name.slice(`${prefix}-alarm-`.length));
  expect(alarmNames).toEqual(expect.arrayContaining(["5xx-rate", "p99-latency", "throttles"]));
  expect(alarmNames.filter((name) => name.startsWith("replication-")).length).toBeGreaterThan(0);
  for (const alarm of alarms) expect(alarm.inputs.region).toBe(region);
}

class NotApplicable extends Error {}

/**
 * The resources as the policy SDK hands them to a pack: props, options and the resources each one
 * depends on (all of them, and per property), linked through the URNs the engine recorded.
 */
function policyResources(resources: RecordedResource[]): (PolicyResource & ResourceValidationArgs)[] {
  const byUrn = new Map<string, PolicyResource & ResourceValidationArgs>();
  const linked = resources.map((resource) => {
    const isType = (resourceClass: unknown) =>
      (resourceClass as { __pulumiType?: string }).__pulumiType === resource.type;
    const fields = {
      type: resource.type,
      props: resource.inputs,
      urn: resource.urn,
      name: resource.name,
      opts: {
        protect: false,
        ignoreChanges: resource.options.ignoreChanges,
        deleteBeforeReplace: resource.options.deleteBeforeReplace,
        aliases: resource.options.aliasNames,
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
        parent: resource.options.parent,
      },
      stackTags: new Map(),
      dependencies: [] as PolicyResource[],
      propertyDependencies: {} as Record<string, PolicyResource[]>,
      isType,
      asType: (resourceClass: unknown) => (isType(resourceClass) ? resource.inputs : undefined),
      getConfig: () => ({}),
      notApplicable: (reason?: string): never => {
        throw new NotApplicable(reason);
      },
    };
    // The policy SDK types these generically over resource classes; at run time they are these.
    const policyResource = fields as unknown as PolicyResource & ResourceValidationArgs;
    byUrn.set(resource.urn, policyResource);
    return { resource, policyResource };
  });
  const resolve = (urns: string[]) =>
    urns.map((urn) => byUrn.get(urn)).filter((found): found is PolicyResource & ResourceValidationArgs => !!found);
  for (const { resource, policyResource } of linked) {
    policyResource.dependencies.push(...resolve(resource.options.dependencies));
    for (const [property, urns] of Object.entries(resource.options.propertyDependencies)) {
      policyResource.propertyDependencies[property] = resolve(urns);
    }
  }
  return linked.map(({ policyResource }) => policyResource);
}

/** Every violation the policy pack reports for these resources, as `policy: message`. */
export async function policyViolations(resources: RecordedResource[]): Promise<string[]> {
  const violations: string[] = [];
  const custom = policyResources(resources.filter((resource) => resource.custom));
  for (const policy of policies) {
    const report = (message: string) => violations.push(`${policy.name}: ${message}`);
    if ("validateResource" in policy && policy.validateResource !== undefined) {
      const validations = [(policy as ResourceValidationPolicy).validateResource]
        .flat()
        .filter((validate) => validate !== undefined);
      for (const resource of custom) {
        for (const validate of validations) {
          try {
            await validate(resource, report);
          } catch (error) {
            if (!(error instanceof NotApplicable)) throw error;
          }
        }
      }
    }
    if ("validateStack" in policy && policy.validateStack !== undefined) {
      const args = {
        resources: custom,
        getConfig: () => ({}),
        notApplicable: () => undefined as never,
      };
      await (policy as StackValidationPolicy).validateStack(args as never, report);
    }
  }
  return violations;
}

/**
 * The names AWS holds unique in an account (per region, or account-wide for Route 53 and the
 * API domains) that the program sets itself. Names Pulumi generates (`<logical name>-<random>`)
 * are absent from the inputs under mocks, and unique anyway.
 */
export function physicalNames(run: ProgramRun): string[] {
  return run.resources
    .filter((resource) => resource.custom)
    .flatMap((resource): string[] => {
      const { inputs, type } = resource;
      const where = typeof inputs.region === "string" ? inputs.region : "global";
      switch (type) {
        case "aws:route53/record:Record":
          return [`route53 record ${inputs.zoneId} ${inputs.name} ${inputs.type} ${inputs.setIdentifier ?? ""}`];
        case "aws:apigatewayv2/domainName:DomainName":
          return [`api domain ${inputs.domainName}`];
        // A stage's name is unique within its API only, an alias's within its function.
        case "aws:apigatewayv2/stage:Stage":
        case "aws:lambda/alias:Alias":
          return [];
        default:
          return typeof inputs.name === "string" ? [`${type} ${where} ${inputs.name}`] : [];
      }
    });
}
