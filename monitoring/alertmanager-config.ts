import { scaleDuration } from "./duration.js";

/** Where alerts go: the SNS topic on AWS; a webhook (the local cloud's control endpoint) locally. */
export type AlertReceiver = { kind: "sns"; topicArn: string; region: string } | { kind: "webhook"; url: string };

export const RECEIVER_NAME = "calcburst";

export function alertmanagerConfig(input: { receiver: AlertReceiver; timeScale: number }) {
  const scaled = (text: string) => scaleDuration(text, input.timeScale);
  const receiver =
    input.receiver.kind === "sns"
      ? {
          name: RECEIVER_NAME,
          sns_configs: [
            {
              topic_arn: input.receiver.topicArn,
              // Signed with the instance role's credentials.
              sigv4: { region: input.receiver.region },
              subject: "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} {{ .CommonLabels.region }}",
              message:
                "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ .Annotations.description }}\nRunbook: {{ .Annotations.runbook_url }}\n\n{{ end }}",
            },
          ],
        }
      : { name: RECEIVER_NAME, webhook_configs: [{ url: input.receiver.url, send_resolved: true }] };
  return {
    route: {
      receiver: RECEIVER_NAME,
      group_by: ["alertname", "region"],
      group_wait: scaled("30s"),
      group_interval: scaled("5m"),
      repeat_interval: scaled("4h"),
    },
    // A region that is down also burns budget: the page about the region is the one to read.
    inhibit_rules: [
      {
        source_matchers: ['alertname="CalcBurstRegionDown"'],
        target_matchers: ['alertname=~"CalcBurst(Availability|Latency)(Fast|Slow)Burn"'],
      },
    ],
    receivers: [receiver],
  };
}
