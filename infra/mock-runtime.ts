import * as pulumi from "@pulumi/pulumi";
import type { MockCallArgs, MockResourceArgs } from "@pulumi/pulumi/runtime/mocks.js";

/**
 * Runs the Pulumi program without the CLI or AWS, under `pulumi.runtime.setMocks`, recording
 * every registration. `npm run plan` and the infra tests use it. The fake outputs stand in for
 * what AWS computes (ARNs, generated names, alias targets, private IPs). The program makes three
 * lookups (the Debian AMI, the availability zones, the Lambda concurrency quota), answered by
 * MOCKED_CALLS and recorded; any other provider function call throws.
 */

export const FAKE_ACCOUNT = "123456789012";

export interface RecordedResource {
  type: string;
  name: string;
  /** Component resources (ours) are not custom; AWS resources are. */
  custom: boolean;
  inputs: Record<string, unknown>;
  state: Record<string, unknown>;
  id: string;
  urn: string;
  /** The options the engine receives, as `pulumi up` would send them. */
  options: RegistrationOptions;
}

/** What the program told the engine about a resource besides its inputs. */
export interface RegistrationOptions {
  parent: string;
  deleteBeforeReplace: boolean;
  ignoreChanges: string[];
  /** The URNs of every resource this one depends on (dependsOn and the resources its inputs come from). */
  dependencies: string[];
  /** Per input, the URNs of the resources its value comes from. */
  propertyDependencies: Record<string, string[]>;
  /** The names of the aliases (earlier identities) the resource answers to. */
  aliasNames: string[];
}

export interface ProgramRun {
  resources: RecordedResource[];
  outputs: Record<string, unknown>;
  /** The provider functions the program called, with their arguments. */
  calls: { token: string; inputs: Record<string, unknown> }[];
}

/** The lookups the program is expected to make, and a plausible answer for each region. */
export const MOCKED_CALLS: Record<string, (inputs: Record<string, unknown>) => Record<string, unknown>> = {
  "aws:ec2/getAmi:getAmi": (inputs) => ({
    id: `ami-debian-12-arm64-${String(inputs.region ?? "us-east-1")}`,
    architecture: "arm64",
  }),
  "aws:index/getAvailabilityZones:getAvailabilityZones": (inputs) => {
    const region = String(inputs.region ?? "us-east-1");
    return { names: ["a", "b", "c"].map((zone) => `${region}${zone}`), zoneIds: [], id: region };
  },
  // The default quota of an account that has not asked for more (on paper: Lambda quotas).
  "aws:servicequotas/getServiceQuota:getServiceQuota": (inputs) => ({
    ...inputs,
    id: `arn:aws:servicequotas:${String(inputs.region ?? "us-east-1")}:${FAKE_ACCOUNT}:lambda/${String(inputs.quotaCode)}`,
    value: 1000,
    defaultValue: 1000,
    adjustable: true,
    globalQuota: false,
  }),
};

function serviceOf(type: string): string {
  return type.split(":")[1]?.split("/")[0] ?? "unknown";
}

/** What AWS would compute for a resource; the program reads some of it (apply, interpolate). */
function computedState(args: MockResourceArgs): Record<string, unknown> {
  const inputs = args.inputs as Record<string, unknown>;
  const region = typeof inputs.region === "string" ? inputs.region : "us-east-1";
  const service = serviceOf(args.type);
  const name = typeof inputs.name === "string" ? inputs.name : `${args.name}-0a1b2c3`;
  const arn = `arn:aws:${service}:${region}:${FAKE_ACCOUNT}:${args.name}`;
  const state: Record<string, unknown> = { name, arn };
  switch (args.type) {
    case "aws:ec2/instance:Instance":
      // The address the program asked for, or a stable fake one per instance.
      state.privateIp =
        inputs.privateIp ?? `10.255.${[...args.name].reduce((sum, char) => (sum + char.charCodeAt(0)) % 250, 0)}.10`;
      break;
    case "aws:dynamodb/table:Table":
      state.arn = `arn:aws:dynamodb:${region}:${FAKE_ACCOUNT}:table/${name}`;
      state.streamArn = `${state.arn}/stream/2026-11-22T00:00:00.000`;
      break;
    case "aws:iam/role:Role":
      state.arn = `arn:aws:iam::${FAKE_ACCOUNT}:role/${name}`;
      break;
    case "aws:lambda/function:Function":
      state.arn = `arn:aws:lambda:${region}:${FAKE_ACCOUNT}:function:${name}`;
      state.invokeArn = `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${state.arn}/invocations`;
      // `publish: true`: the version this update published.
      if (inputs.publish === true) state.version = "1";
      break;
    case "aws:lambda/alias:Alias":
      state.arn = `arn:aws:lambda:${region}:${FAKE_ACCOUNT}:function:${String(inputs.functionName)}:${name}`;
      state.invokeArn = `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${state.arn}/invocations`;
      break;
    case "aws:apigatewayv2/api:Api":
      state.executionArn = `arn:aws:execute-api:${region}:${FAKE_ACCOUNT}:${args.name}-id`;
      state.apiEndpoint = `https://${args.name}-id.execute-api.${region}.amazonaws.com`;
      break;
    case "aws:acm/certificate:Certificate": {
      const names = [inputs.domainName, ...((inputs.subjectAlternativeNames as unknown[]) ?? [])] as string[];
      state.domainValidationOptions = names.map((domainName) => ({
        domainName,
        resourceRecordName: `_acm-challenge.${domainName}.`,
        resourceRecordType: "CNAME",
        resourceRecordValue: `_answer.${domainName}.acm-validations.aws.`,
      }));
      break;
    }
    case "aws:acm/certificateValidation:CertificateValidation":
      state.certificateArn = inputs.certificateArn;
      break;
    case "aws:apigatewayv2/domainName:DomainName":
      state.domainNameConfiguration = {
        ...(inputs.domainNameConfiguration as Record<string, unknown>),
        targetDomainName: `d-${args.name}.execute-api.${region}.amazonaws.com`,
        hostedZoneId: `ZAPIGW${region.replace(/-/g, "").toUpperCase()}`,
      };
      break;
    case "aws:route53/record:Record":
      state.fqdn = inputs.name;
      break;
  }
  return state;
}

const promiseOf = <T>(output: pulumi.Output<T>) => new Promise<T>((resolve) => output.apply(resolve));

async function resolveDeep(value: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) return resolveDeep(await promiseOf(value as pulumi.Output<unknown>));
  if (Array.isArray(value)) return Promise.all(value.map(resolveDeep));
  if (typeof value === "object" && value !== null) {
    const entries = await Promise.all(
      Object.entries(value).map(async ([key, inner]) => [key, await resolveDeep(inner)]),
    );
    return Object.fromEntries(entries);
  }
  return value;
}

/** The parts of the engine's RegisterResourceRequest (proto/resource_pb) that the recording reads. */
interface RegistrationRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getDeletebeforereplace(): boolean;
  getIgnorechangesList(): string[];
  getDependenciesList(): string[];
  getPropertydependenciesMap(): { forEach(visit: (value: { getUrnsList(): string[] }, key: string) => void): void };
  getAliasesList(): { getSpec(): { getName(): string } | undefined }[];
}

/** `waitForRPCs` is exported by the SDK's runtime (runtime/settings.js) but typed @internal. */
interface SettlingRuntime {
  waitForRPCs(): Promise<void>;
}

interface RegisteringMonitor {
  registerResource(
    request: RegistrationRequest,
    callback: (error: unknown, response: { getUrn(): string } | undefined) => void,
  ): void;
}

function optionsOf(request: RegistrationRequest): RegistrationOptions {
  const propertyDependencies: Record<string, string[]> = {};
  request.getPropertydependenciesMap().forEach((value, key) => {
    propertyDependencies[key] = value.getUrnsList();
  });
  return {
    parent: request.getParent(),
    deleteBeforeReplace: request.getDeletebeforereplace(),
    ignoreChanges: request.getIgnorechangesList(),
    dependencies: request.getDependenciesList(),
    propertyDependencies,
    aliasNames: request
      .getAliasesList()
      .map((alias) => alias.getSpec()?.getName() ?? "")
      .filter((name) => name !== ""),
  };
}

/**
 * The mock monitor hands `newResource` the inputs only; the options and dependencies travel in the
 * same request, so the recording reads them there, keyed by the URN the monitor answers with.
 */
function recordRegistrations(into: Map<string, { urn: string; options: RegistrationOptions }>): void {
  const monitor = pulumi.runtime.getMonitor() as unknown as RegisteringMonitor;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (request, callback) =>
    register(request, (error, response) => {
      if (response !== undefined) {
        into.set(`${request.getType()}::${request.getName()}`, { urn: response.getUrn(), options: optionsOf(request) });
      }
      callback(error, response);
    });
}

/** Config as `pulumi config` stores it: strings, with structured values as JSON. */
export function configStrings(values: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => [key, typeof value === "string" ? value : JSON.stringify(value)]),
  );
}

export interface MockOptions {
  /** The stack name `pulumi.getStack()` answers. */
  stack?: string;
  /** Answers for provider calls, in place of (or beside) MOCKED_CALLS. */
  calls?: Record<string, (inputs: Record<string, unknown>) => Record<string, unknown>>;
}

/**
 * Sets the config and the mocks, then loads `load()` (a dynamic import of the program: a static
 * import would run before the mocks are in place) and waits for its outputs and registrations.
 * Like the Pulumi language host, it fails the run on an error the program left unhandled (an
 * input whose apply threw, for one), with that error's message.
 */
export async function runProgramUnderMocks(
  config: Record<string, unknown>,
  load: () => Promise<Record<string, unknown>>,
  options: MockOptions = {},
): Promise<ProgramRun> {
  const registered: Omit<RecordedResource, "urn" | "options">[] = [];
  const registrations = new Map<string, { urn: string; options: RegistrationOptions }>();
  const calls: ProgramRun["calls"] = [];
  const unmockedCalls: string[] = [];
  const answers = { ...MOCKED_CALLS, ...options.calls };
  pulumi.runtime.setAllConfig(configStrings(config));
  await pulumi.runtime.setMocks(
    {
      newResource(args: MockResourceArgs) {
        const id = `${args.name}-id`;
        const state = { ...args.inputs, ...computedState(args) };
        registered.push({
          type: args.type,
          name: args.name,
          custom: args.custom ?? true,
          inputs: args.inputs as Record<string, unknown>,
          state,
          id,
        });
        return { id, state };
      },
      call(args: MockCallArgs): Record<string, unknown> {
        const inputs = args.inputs as Record<string, unknown>;
        const answer = answers[args.token];
        if (answer !== undefined) {
          calls.push({ token: args.token, inputs });
          return answer(inputs);
        }
        unmockedCalls.push(args.token);
        throw new Error(`the program made an unmocked provider call: ${args.token}`);
      },
    },
    "calcburst",
    options.stack ?? "prod",
    false,
  );
  recordRegistrations(registrations);
  // The language host turns an unhandled rejection into the program's failure; so does this.
  const unhandled: unknown[] = [];
  const testRunnerListeners = process.listeners("unhandledRejection");
  process.removeAllListeners("unhandledRejection");
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on("unhandledRejection", onUnhandled);
  // The SDK reports a failed call without the mock's message; name the call here.
  const unmocked = () => new Error(`the program made an unmocked provider call: ${unmockedCalls.join(", ")}`);
  let outputs: Record<string, unknown>;
  try {
    try {
      outputs = (await resolveDeep(await load())) as Record<string, unknown>;
    } catch (error) {
      throw unmockedCalls.length > 0 ? unmocked() : error;
    }
    if (unmockedCalls.length > 0) throw unmocked();
    // Every registration and lookup holds the runtime's RPC latch until it has finished, failed
    // ones included; the language host waits on the same latch before it exits.
    await (pulumi.runtime as unknown as SettlingRuntime).waitForRPCs();
    // A rejection nobody handled is reported after the microtasks of the turn that left it.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off("unhandledRejection", onUnhandled);
    for (const listener of testRunnerListeners) process.on("unhandledRejection", listener);
  }
  if (unhandled.length > 0) throw unhandled[0];
  const resources = registered.map((resource): RecordedResource => {
    const registration = registrations.get(`${resource.type}::${resource.name}`);
    if (registration === undefined) throw new Error(`${resource.type} ${resource.name} was never registered`);
    return { ...resource, ...registration };
  });
  return { resources, outputs, calls };
}
