import * as pulumi from "@pulumi/pulumi";
import type { MockCallArgs, MockResourceArgs } from "@pulumi/pulumi/runtime/mocks.js";

/**
 * Runs the Pulumi program without the CLI or AWS, under `pulumi.runtime.setMocks`, recording
 * every registration. `npm run plan` and the infra tests use it. The fake outputs stand in for
 * what AWS computes (ARNs, generated names, alias targets, private IPs). The program makes two
 * lookups (the Debian AMI, the availability zones), answered by MOCKED_CALLS and recorded; any
 * other provider function call throws.
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
      // A stable fake address per instance, so rendered configs read like real ones.
      state.privateIp = `10.255.${[...args.name].reduce((sum, char) => (sum + char.charCodeAt(0)) % 250, 0)}.10`;
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

/** Config as `pulumi config` stores it: strings, with structured values as JSON. */
export function configStrings(values: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => [key, typeof value === "string" ? value : JSON.stringify(value)]),
  );
}

/**
 * Sets the config and the mocks, then loads `load()` (a dynamic import of the program: a static
 * import would run before the mocks are in place) and waits for its outputs and registrations.
 */
export async function runProgramUnderMocks(
  config: Record<string, unknown>,
  load: () => Promise<Record<string, unknown>>,
  stack = "prod",
): Promise<ProgramRun> {
  const resources: RecordedResource[] = [];
  const calls: ProgramRun["calls"] = [];
  const unmockedCalls: string[] = [];
  pulumi.runtime.setAllConfig(configStrings(config));
  await pulumi.runtime.setMocks(
    {
      newResource(args: MockResourceArgs) {
        const id = `${args.name}-id`;
        const state = { ...args.inputs, ...computedState(args) };
        resources.push({
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
        const answer = MOCKED_CALLS[args.token];
        if (answer !== undefined) {
          calls.push({ token: args.token, inputs });
          return answer(inputs);
        }
        unmockedCalls.push(args.token);
        throw new Error(`the program made an unmocked provider call: ${args.token}`);
      },
    },
    "calcburst",
    stack,
    false,
  );
  // The SDK reports a failed call without the mock's message; name the call here.
  const unmocked = () => new Error(`the program made an unmocked provider call: ${unmockedCalls.join(", ")}`);
  let outputs: Record<string, unknown>;
  try {
    outputs = (await resolveDeep(await load())) as Record<string, unknown>;
  } catch (error) {
    throw unmockedCalls.length > 0 ? unmocked() : error;
  }
  if (unmockedCalls.length > 0) throw unmocked();
  // Registrations finish asynchronously; wait until the count holds still for a few turns.
  let settled = 0;
  let seen = -1;
  const deadline = Date.now() + 10_000;
  while (settled < 5 && Date.now() < deadline) {
    await new Promise((resolve) => setImmediate(resolve));
    settled = resources.length === seen ? settled + 1 : 0;
    seen = resources.length;
  }
  return { resources, outputs, calls };
}
