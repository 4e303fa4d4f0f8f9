import { describe, expect, it } from "vitest";
import { alertmanagerConfig } from "../../monitoring/alertmanager-config.js";
import { durationMs } from "../../monitoring/duration.js";
import { scrapeInterval } from "../../monitoring/prometheus-config.js";
import { alertRules } from "../../monitoring/rules.js";
import { loadStack } from "../../shared/stack-file.js";
import { monitoringOf, useCloud, writeFromEachLocation } from "./support/cloud.js";

// A healthy cloud pages nobody: not while it starts (monitoring starts before the APIs), and not
// when a few requests, slow cold starts among them, are all the traffic it has had.

const TIME_SCALE = 0.05;
const cloud = useCloud(TIME_SCALE, { monitoring: true });

/** How long an alert whose condition held from now on would take to reach Alertmanager. */
function longestPathToAlertmanagerMs(): number {
  const { config } = loadStack("prod");
  const rules = alertRules(config, { timeScale: TIME_SCALE, runbookUrl: config.runbookUrl }).groups.flatMap(
    (group) => group.rules,
  );
  const longestFor = Math.max(...rules.map((rule) => ("for" in rule && rule.for ? durationMs(rule.for) : 0)));
  const { group_wait } = alertmanagerConfig({ receiver: { kind: "webhook", url: "" }, timeScale: TIME_SCALE }).route;
  // Two evaluations: one to see the condition, one to fire once `for` has passed.
  return longestFor + durationMs(group_wait) + 2 * durationMs(scrapeInterval(TIME_SCALE));
}

async function json<T>(url: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return (await response.json()) as T;
}

describe("alerts on a healthy, almost idle cloud", () => {
  it(
    "sends Alertmanager nothing from start-up through the longest `for` after a few requests",
    async () => {
      // Prepare: what a newcomer's first minute sends: the demo's handful of writes and reads.
      const { global, alertmanager } = monitoringOf(cloud().state());
      for (const written of await writeFromEachLocation(cloud().routerUrl, {
        operation: "mean",
        operands: [1, 2, 3.5],
      })) {
        expect(written.status).toBe(201);
      }
      const idleUntil = Date.now() + longestPathToAlertmanagerMs();

      // Act: idle, looking at what the global Prometheus evaluates and Alertmanager holds.
      const seen: string[] = [];
      let polls = 0;
      while (Date.now() < idleUntil) {
        const evaluated = await json<{ data: { alerts: { labels: Record<string, string>; state: string }[] } }>(
          `${global.prometheus}/api/v1/alerts`,
        );
        const received = await json<{ labels: Record<string, string> }[]>(`${alertmanager.url}/api/v2/alerts`);
        for (const alert of evaluated.data.alerts) {
          seen.push(`${alert.state}: ${alert.labels.alertname} ${alert.labels.region ?? ""}`.trim());
        }
        for (const alert of received) seen.push(`Alertmanager: ${alert.labels.alertname} ${alert.labels.region ?? ""}`);
        polls += 1;
        if (seen.some((line) => line.startsWith("firing") || line.startsWith("Alertmanager"))) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }

      // Assess
      expect(polls).toBeGreaterThan(0);
      expect(seen.filter((line) => !line.startsWith("pending"))).toEqual([]);
      expect((await cloud().status()).alerts).toEqual([]);
      expect(cloud().output()).toContain("alerts armed");
      expect(cloud().output()).not.toMatch(/alert firing: .*/);
    },
    longestPathToAlertmanagerMs() + 60_000,
  );
});
