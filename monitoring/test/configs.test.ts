import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { requireMonitoringBinaries } from "../../local/monitoring/binaries.js";
import { loadStack } from "../../shared/stack-file.js";
import { alertmanagerConfig } from "../alertmanager-config.js";
import {
  blackboxConfig,
  cloudwatchExporterConfig,
  FEDERATION_MATCHERS,
  globalPrometheusConfig,
  regionalPrometheusConfig,
} from "../prometheus-config.js";
import { RULE_FILES, ruleFileTexts } from "../render.js";

const { config } = loadStack("prod");
const binaries = requireMonitoringBinaries();
const directory = mkdtempSync(path.join(tmpdir(), "calcburst-configs-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(directory, name);
  writeFileSync(file, text);
  return file;
}

function check(binary: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync(binary, args, { encoding: "utf8" });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

const rules = ruleFileTexts(config, { timeScale: 1, runbookUrl: config.runbookUrl }, ["local", "aws"]);
const rulePath = (name: string) => write(name, rules[name] ?? "");

describe.each([
  { target: "local" as const, timeScale: 0.05 },
  { target: "aws" as const, timeScale: 1 },
])("the rendered configs for $target", ({ target, timeScale }) => {
  it("give each regional Prometheus a config promtool accepts", () => {
    for (const region of config.regions) {
      // Prepare
      const rendered = regionalPrometheusConfig({
        region,
        target,
        timeScale,
        selfAddress: "127.0.0.1:9090",
        blackboxAddress: "127.0.0.1:9115",
        healthUrl: `https://${region}.api.${config.domain}/health`,
        platformAddresses: ["127.0.0.1:5000"],
        ruleFiles: [rulePath(RULE_FILES.regional), rulePath(RULE_FILES.platform(target))],
      });

      // Act
      const result = check(binaries.promtool, [
        "check",
        "config",
        write(`regional-${target}-${region}.yml`, stringify(rendered)),
      ]);

      // Assess
      expect(result.status, result.output).toBe(0);
      expect(rendered.global.external_labels).toEqual({ region });
    }
  });

  it("give the global Prometheus a config promtool accepts, federating only region:, job: and up", () => {
    // Prepare
    const rendered = globalPrometheusConfig({
      timeScale,
      selfAddress: "127.0.0.1:9090",
      regionalServers: config.regions.map((region, index) => ({ region, address: `10.${10 + index}.1.10:9090` })),
      alertmanagerAddress: "127.0.0.1:9093",
      ruleFiles: [rulePath(RULE_FILES.global), rulePath(RULE_FILES.alerts)],
    });

    // Act
    const result = check(binaries.promtool, ["check", "config", write(`global-${target}.yml`, stringify(rendered))]);

    // Assess
    expect(result.status, result.output).toBe(0);
    const federate = rendered.scrape_configs.find((job) => job.job_name === "federate");
    expect(federate).toMatchObject({ honor_labels: true, params: { "match[]": [...FEDERATION_MATCHERS] } });
    expect(FEDERATION_MATCHERS).toEqual(['{__name__=~"region:.+"}', '{__name__=~"job:.+"}', "up"]);
  });

  it("give Alertmanager a config amtool accepts", () => {
    // Prepare
    const receiver =
      target === "aws"
        ? { kind: "sns" as const, topicArn: "arn:aws:sns:us-east-1:123456789012:calcburst-alerts", region: "us-east-1" }
        : { kind: "webhook" as const, url: "http://127.0.0.1:4000/alerts" };

    // Act
    const result = check(binaries.amtool, [
      "check-config",
      write(`alertmanager-${target}.yml`, stringify(alertmanagerConfig({ receiver, timeScale }))),
    ]);

    // Assess
    expect(result.status, result.output).toBe(0);
  });

  it("give the blackbox exporter a config it accepts", () => {
    const file = write(
      `blackbox-${target}.yml`,
      stringify(blackboxConfig({ timeScale, requireTls: target === "aws" })),
    );
    const result = check(binaries.blackboxExporter, [`--config.file=${file}`, "--config.check"]);
    expect(result.status, result.output).toBe(0);
  });
});

describe("the CloudWatch exporter config (AWS only)", () => {
  const render = () =>
    cloudwatchExporterConfig({
      region: "eu-west-1",
      functionName: "calcburst-eu-west-1-function",
      tableName: "calcburst-calculations",
      receivingRegions: ["us-east-1", "ap-southeast-2"],
    });

  it("asks for the function's throttles and the table's replication latency to each other region", () => {
    const rendered = render();
    expect(
      rendered.static.map((job) => [job.namespace, job.regions, job.metrics.map((metric) => metric.name)]),
    ).toEqual([
      ["AWS/Lambda", ["eu-west-1"], ["Throttles"]],
      ["AWS/DynamoDB", ["eu-west-1"], ["ReplicationLatency"]],
      ["AWS/DynamoDB", ["eu-west-1"], ["ReplicationLatency"]],
    ]);
  });

  it("names every dimension CloudWatch publishes ReplicationLatency with, which it matches exactly", () => {
    const rendered = render();

    const replication = rendered.static.filter((job) =>
      job.metrics.some((metric) => metric.name === "ReplicationLatency"),
    );
    expect(replication.map((job) => job.dimensions)).toEqual([
      [
        { name: "TableName", value: "calcburst-calculations" },
        { name: "ReceivingRegion", value: "us-east-1" },
      ],
      [
        { name: "TableName", value: "calcburst-calculations" },
        { name: "ReceivingRegion", value: "ap-southeast-2" },
      ],
    ]);
  });
});
