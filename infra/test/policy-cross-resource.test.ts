import { describe, expect, it } from "vitest";
import type { RecordedResource } from "../mock-runtime.js";
import { capacityTags, policyViolations, craftedResource as resource } from "./support/program.js";

const TYPES = {
  function: "aws:lambda/function:Function",
  stage: "aws:apigatewayv2/stage:Stage",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  topic: "aws:sns/topic:Topic",
  subscription: "aws:sns/topicSubscription:TopicSubscription",
  record: "aws:route53/record:Record",
  instance: "aws:ec2/instance:Instance",
  attachment: "aws:ec2/volumeAttachment:VolumeAttachment",
};

/** A region sized for 1,000 requests a second within 250 ms: 250 concurrent executions, 1,000 rps at the stage. */
const tags = capacityTags(1000, 250);
const healthRoute = { routeKey: "GET /health", throttlingRateLimit: 100, throttlingBurstLimit: 200 };
const fn = (reserved: number | undefined) =>
  resource(TYPES.function, "fn", {
    architectures: ["arm64"],
    tags,
    ...(reserved !== undefined && { reservedConcurrentExecutions: reserved }),
  });
const stage = (rate: number, routeSettings: unknown[] = [healthRoute]) =>
  resource(TYPES.stage, "stage", { defaultRouteSettings: { throttlingRateLimit: rate }, routeSettings, tags });

const topic = resource(TYPES.topic, "alarms", {});
const alarmTo = (actions: RecordedResource[]) =>
  resource(
    TYPES.alarm,
    "alarm",
    { alarmActions: actions.map((action) => `${action.name}-arn`) },
    { propertyDependencies: { alarmActions: actions.map((action) => action.urn) } },
  );
const subscriptionTo = (target: RecordedResource) =>
  resource(
    TYPES.subscription,
    "email",
    { protocol: "email", endpoint: "oncall@example.com", topic: `${target.name}-arn` },
    { propertyDependencies: { topic: [target.urn] } },
  );

const record = (name: string, inputs: Record<string, unknown>) =>
  resource(TYPES.record, name, { zoneId: "Z1", type: "CNAME", ...inputs });

const instance = (deleteBeforeReplace: boolean) =>
  resource(
    TYPES.instance,
    "vm",
    { metadataOptions: { httpTokens: "required" }, rootBlockDevice: { encrypted: true } },
    {
      deleteBeforeReplace,
    },
  );
const attachmentTo = (target: RecordedResource, deleteBeforeReplace: boolean) =>
  resource(
    TYPES.attachment,
    "data",
    { volumeId: "vol-1", instanceId: `${target.name}-id` },
    {
      deleteBeforeReplace,
      propertyDependencies: { instanceId: [target.urn] },
    },
  );

const violationsOf = async (policy: string, resources: RecordedResource[]) =>
  (await policyViolations(resources)).filter((violation) => violation.startsWith(`${policy}: `));

describe("the policy pack's rules across resources", () => {
  it("refuses a region whose stage throttles below the peak or whose reserved concurrency cannot carry it", async () => {
    expect(await violationsOf("capacity-per-region", [fn(249), stage(999)])).toEqual([
      "capacity-per-region: fn: reserved concurrency 249 cannot carry the peak of 1000 requests per second within 250 ms (250 needed)",
      "capacity-per-region: stage: the stage throttles at 999 requests per second, below the peak of 1000 one region must carry when the others fail",
    ]);
  });

  it("accepts a region sized for the peak, and an unreserved function", async () => {
    expect(await violationsOf("capacity-per-region", [fn(250), stage(1000)])).toEqual([]);
    expect(await violationsOf("capacity-per-region", [fn(undefined), stage(1000)])).toEqual([]);
  });

  it("refuses a stage whose /health shares the API's throttling, and capacity nobody declared", async () => {
    expect(await violationsOf("capacity-per-region", [stage(1000, [])])).toEqual([
      "capacity-per-region: stage: GET /health has no route throttling of its own, so a burst on the API can fail the health checks",
    ]);
    expect(
      await violationsOf("capacity-per-region", [resource(TYPES.function, "untagged", { architectures: ["arm64"] })]),
    ).toEqual([
      "capacity-per-region: untagged: tag it with calcburst:peak-requests-per-second and calcburst:latency-objective-ms, so its capacity can be checked",
    ]);
  });

  it("refuses an alarm with no action, or whose topic nobody subscribes to", async () => {
    expect(await violationsOf("alarms-reach-a-subscriber", [alarmTo([]), topic])).toEqual([
      "alarms-reach-a-subscriber: alarm: no alarmActions, so the alarm notifies nobody",
    ]);
    expect(await violationsOf("alarms-reach-a-subscriber", [alarmTo([topic]), topic])).toEqual([
      "alarms-reach-a-subscriber: alarm: its topic alarms has no subscription, so the alarm reaches nobody",
    ]);
    expect(await violationsOf("alarms-reach-a-subscriber", [alarmTo([topic]), topic, subscriptionTo(topic)])).toEqual(
      [],
    );
  });

  it("refuses a Route 53 record two resources own, or one taken over with allowOverwrite", async () => {
    const owners = [
      record("validation-us", { name: "_x.api.example.com.", records: ["_y.acm-validations.aws."] }),
      record("validation-eu", { name: "_X.api.example.com", records: ["_y.acm-validations.aws."] }),
      record("validation-ap", { name: "_z.api.example.com.", allowOverwrite: true }),
    ];

    expect(await violationsOf("route53-records-owned-once", owners)).toEqual([
      "route53-records-owned-once: validation-ap: allowOverwrite takes over whatever record is there, including one another resource owns and will delete",
      "route53-records-owned-once: validation-us, validation-eu own the same record (Z1 _x.api.example.com CNAME ): deleting any one of them deletes it for all",
    ]);
    // One name, two latency records told apart by their set identifiers, is two records.
    const latency = [
      record("us", { name: "api.example.com", type: "A", setIdentifier: "us-east-1" }),
      record("eu", { name: "api.example.com", type: "A", setIdentifier: "eu-west-1" }),
    ];
    expect(await violationsOf("route53-records-owned-once", latency)).toEqual([]);
  });

  it("refuses a volume attachment or its instance that would be replaced create-first", async () => {
    const kept = instance(false);
    expect(await violationsOf("volume-attachments-survive-replacement", [kept, attachmentTo(kept, false)])).toEqual([
      "volume-attachments-survive-replacement: data: without deleteBeforeReplace, its replacement attaches the volume while the old attachment holds it (VolumeInUse)",
      "volume-attachments-survive-replacement: vm: without deleteBeforeReplace, its replacement is created while the old instance still holds the volume data attaches",
    ]);
    const replaceable = instance(true);
    expect(
      await violationsOf("volume-attachments-survive-replacement", [replaceable, attachmentTo(replaceable, true)]),
    ).toEqual([]);
  });
});
