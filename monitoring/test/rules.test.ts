import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { requireMonitoringBinaries } from "../../local/monitoring/binaries.js";
import { PROJECT_ROOT } from "../../shared/paths.js";
import type { AlertingRule, RecordingRule, RuleFile } from "../rules.js";

const MONITORING = path.join(PROJECT_ROOT, "monitoring");
const ruleFiles = readdirSync(path.join(MONITORING, "rules")).filter((name) => name.endsWith(".yml"));
const testFiles = readdirSync(path.join(MONITORING, "tests")).filter((name) => name.endsWith(".test.yml"));

interface PromtoolTest {
  promql_expr_test?: { expr: string; exp_samples: { labels: string }[] }[];
  alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[];
}
interface PromtoolTestFile {
  rule_files: string[];
  tests: PromtoolTest[];
}

const rulesOf = (name: string) =>
  (parse(readFileSync(path.join(MONITORING, "rules", name), "utf8")) as RuleFile).groups.flatMap(
    (group) => group.rules,
  );
const testsOf = (name: string) => parse(readFileSync(path.join(MONITORING, "tests", name), "utf8")) as PromtoolTestFile;

describe("recording rules and alerts", () => {
  it("pass promtool check rules", () => {
    const { promtool } = requireMonitoringBinaries();
    const result = spawnSync(promtool, ["check", "rules", ...ruleFiles.map((name) => path.join("rules", name))], {
      cwd: MONITORING,
      encoding: "utf8",
    });
    expect(result.status, result.stdout + result.stderr).toBe(0);
  });

  it("pass every promtool unit test", () => {
    const { promtool } = requireMonitoringBinaries();
    const result = spawnSync(promtool, ["test", "rules", ...testFiles.map((name) => path.join("tests", name))], {
      cwd: MONITORING,
      encoding: "utf8",
    });
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout.match(/SUCCESS/g)).toHaveLength(testFiles.length);
  });

  it("each have a promtool test of the firing case and of the silent case", () => {
    // Prepare: what each rule file's tests assert, empty results and non-empty ones apart.
    const missing: string[] = [];
    for (const ruleFile of ruleFiles) {
      const covering = testFiles.map(testsOf).filter((file) => file.rule_files.some((f) => f.endsWith(ruleFile)));
      const tests = covering.flatMap((file) => file.tests);
      const firing = new Set<string>();
      const silent = new Set<string>();
      for (const test of tests) {
        for (const check of test.promql_expr_test ?? []) {
          const names = check.expr.match(/(region|job):[a-z0-9_]+:[a-z0-9_]+/g) ?? [];
          for (const name of names) (check.exp_samples.length > 0 ? firing : silent).add(name);
        }
        for (const check of test.alert_rule_test ?? []) {
          (check.exp_alerts.length > 0 ? firing : silent).add(check.alertname);
        }
      }

      // Act
      for (const rule of rulesOf(ruleFile)) {
        const name = "record" in rule ? (rule as RecordingRule).record : (rule as AlertingRule).alert;
        if (!firing.has(name)) missing.push(`${ruleFile}: ${name} has no firing (non-empty) test`);
        if (!silent.has(name)) missing.push(`${ruleFile}: ${name} has no silent (empty) test`);
      }
    }

    // Assess
    expect(missing).toEqual([]);
  });

  it("name recordings level:metric:operations, and only region: series leave a region", () => {
    const names = ruleFiles.flatMap((file) =>
      rulesOf(file)
        .filter((rule): rule is RecordingRule => "record" in rule)
        .map((rule) => ({ file, name: rule.record })),
    );
    for (const { file, name } of names) {
      expect(name).toMatch(/^(region|job):[a-z0-9_]+:[a-z0-9_]+$/);
      // The global Prometheus federates region: series; job: series are recorded there.
      expect(name.startsWith(file === "global.rules.yml" ? "job:" : "region:"), `${file}: ${name}`).toBe(true);
    }
  });

  it("give every alert a summary, a description and a runbook section that exists", () => {
    // Prepare
    const runbook = readFileSync(path.join(PROJECT_ROOT, "docs", "RUNBOOK.md"), "utf8");
    // GitHub's anchors: lower case, punctuation dropped, spaces to hyphens.
    const anchors = new Set(
      [...runbook.matchAll(/^#{2,4} (.+)$/gm)].map((match) =>
        (match[1] ?? "")
          .toLowerCase()
          .replace(/[^a-z0-9 -]/g, "")
          .replace(/ /g, "-"),
      ),
    );
    const alerts = rulesOf("alerts.rules.yml") as AlertingRule[];

    // Assess
    expect(alerts.map((alert) => alert.alert).sort()).toEqual([
      "CalcBurstAvailabilityBudgetExhausted",
      "CalcBurstAvailabilityFastBurn",
      "CalcBurstAvailabilitySlowBurn",
      "CalcBurstHighThrottleRate",
      "CalcBurstLatencyBudgetExhausted",
      "CalcBurstLatencyFastBurn",
      "CalcBurstLatencySlowBurn",
      "CalcBurstRegionDown",
      "CalcBurstReplicationLagHigh",
    ]);
    for (const alert of alerts) {
      expect(alert.annotations.summary.length, alert.alert).toBeGreaterThan(10);
      expect(alert.annotations.description.length, alert.alert).toBeGreaterThan(40);
      const [page, anchor] = alert.annotations.runbook_url.split("#");
      expect(page).toBe("docs/RUNBOOK.md");
      expect(anchors.has(anchor ?? ""), `docs/RUNBOOK.md has no section #${anchor}`).toBe(true);
      expect(["page", "ticket"]).toContain(alert.labels.severity);
    }
  });
});
