import { describe, expect, it } from "vitest";
import { readStackValues } from "../../shared/stack-file.js";
import { named, ofType, useProgram } from "./support/program.js";

const { values } = readStackValues("prod");
const REGIONS = values["calcburst:regions"] as string[];
const ALERT_EMAIL = values["calcburst:alertEmail"];

describe("who the alarms and alerts reach", () => {
  const theRun = useProgram(values);

  it.each(REGIONS)("e-mails every CloudWatch alarm of %s to the stack's alert address", (region) => {
    const topic = named(theRun(), "aws:sns/topic:Topic", `calcburst-${region}-alarms`);
    const alarms = ofType(theRun(), "aws:cloudwatch/metricAlarm:MetricAlarm").filter(
      (alarm) => alarm.inputs.region === region,
    );

    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) expect(alarm.inputs.alarmActions).toEqual([topic.state.arn]);
    expect(
      ofType(theRun(), "aws:sns/topicSubscription:TopicSubscription")
        .filter((subscription) => subscription.inputs.topic === topic.state.arn)
        .map((subscription) => subscription.inputs),
    ).toEqual([expect.objectContaining({ region, protocol: "email", endpoint: ALERT_EMAIL })]);
  });

  it("e-mails the global Alertmanager's topic to the same address", () => {
    const topic = named(theRun(), "aws:sns/topic:Topic", "calcburst-global-monitoring-alerts");

    expect(
      ofType(theRun(), "aws:sns/topicSubscription:TopicSubscription").find(
        (subscription) => subscription.inputs.topic === topic.state.arn,
      )?.inputs,
    ).toMatchObject({ protocol: "email", endpoint: ALERT_EMAIL });
  });
});
