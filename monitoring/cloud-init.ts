import { gzipSync } from "node:zlib";
import { stringify } from "yaml";
import type { StackConfig } from "../shared/stack-config.js";
import { type AlertReceiver, alertmanagerConfig } from "./alertmanager-config.js";
import { DASHBOARD_UID, globalDashboard } from "./dashboard.js";
import {
  blackboxConfig,
  cloudwatchExporterConfig,
  globalPrometheusConfig,
  regionalPrometheusConfig,
} from "./prometheus-config.js";
import { RULE_FILES, ruleFileTexts } from "./render.js";

/**
 * cloud-init for the monitoring instances on AWS (Debian 12, arm64): the same Debian packages
 * and the same rendered configs the local cloud runs, written in place, plus what only a
 * server needs (the EBS data volume, the SSM agent, the CloudWatch exporter, Grafana).
 */

export const PROMETHEUS_PORT = 9090;

/**
 * The CloudWatch exporter (YACE) release the regional instances download. Pinned; its checksum
 * is not checked here because this machine cannot reach GitHub to take it (docs/DEPLOY.md).
 */
export const YACE_VERSION = "0.61.2";

const RULES_DIRECTORY = "/etc/prometheus/rules";
const DASHBOARDS_DIRECTORY = "/etc/grafana/dashboards";

interface WriteFile {
  path: string;
  content: string;
  permissions?: string;
}

function cloudConfig(input: { packages: string[]; files: WriteFile[]; commands: string[] }): string {
  return `#cloud-config\n${stringify(
    {
      package_update: true,
      packages: input.packages,
      write_files: input.files.map((file) => ({ permissions: "0644", ...file })),
      runcmd: input.commands,
    },
    { lineWidth: 0 },
  )}`;
}

/** User data over 16 KB is refused; cloud-init reads gzip, which these configs shrink about 6×. */
export function gzipBase64(text: string): string {
  return gzipSync(Buffer.from(text, "utf8"), { level: 9 }).toString("base64");
}

/**
 * Formats the EBS data volume on first use and mounts it where Prometheus keeps its TSDB. The
 * attachment may land after boot, so it waits for the device (Nitro names it by volume id).
 */
function dataVolumeScript(volumeId: string, mountPoint: string, services: string[]): string {
  const device = `/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${volumeId.replace("-", "")}`;
  return [
    "set -eu",
    `for attempt in $(seq 1 120); do [ -e ${device} ] && break; sleep 5; done`,
    `[ -e ${device} ] || { echo "data volume ${volumeId} never attached" >&2; exit 1; }`,
    `blkid ${device} || mkfs.ext4 -L prometheus-data ${device}`,
    `systemctl stop ${services.join(" ")}`,
    `mkdir -p ${mountPoint}`,
    `grep -q ' ${mountPoint} ' /etc/fstab || echo "UUID=$(blkid -s UUID -o value ${device}) ${mountPoint} ext4 defaults,nofail 0 2" >> /etc/fstab`,
    "mount -a",
    `chown -R prometheus:prometheus ${mountPoint}`,
    `systemctl start ${services.join(" ")}`,
  ].join("\n");
}

/** Debian does not ship the SSM agent; Session Manager (the only way in) needs it. */
const SSM_AGENT_COMMANDS = [
  "curl -fsSLo /tmp/amazon-ssm-agent.deb https://s3.amazonaws.com/ec2-downloads-windows/SSMAgent/latest/debian_arm64/amazon-ssm-agent.deb",
  "dpkg -i /tmp/amazon-ssm-agent.deb",
  "systemctl enable --now amazon-ssm-agent",
];

function ruleFiles(config: StackConfig, names: string[]): WriteFile[] {
  const texts = ruleFileTexts(config, { timeScale: 1, runbookUrl: config.runbookUrl }, ["aws"]);
  return names.map((name) => ({ path: `${RULES_DIRECTORY}/${name}`, content: texts[name] ?? "" }));
}

export interface RegionalUserDataInput {
  config: StackConfig;
  region: string;
  /** `https://<region>.api.<domain>/health`: what Route 53 checks. */
  healthUrl: string;
  functionName: string;
  tableName: string;
  dataVolumeId: string;
}

/** The regional Prometheus (remote-write receiver on), its blackbox exporter and the CloudWatch exporter. */
export function regionalUserData(input: RegionalUserDataInput): string {
  const { config } = input;
  const rules = [RULE_FILES.regional, RULE_FILES.platform("aws")];
  const prometheus = regionalPrometheusConfig({
    region: input.region,
    target: "aws",
    timeScale: 1,
    selfAddress: `127.0.0.1:${PROMETHEUS_PORT}`,
    blackboxAddress: "127.0.0.1:9115",
    healthUrl: input.healthUrl,
    platformAddresses: ["127.0.0.1:5000"],
    ruleFiles: rules.map((name) => `${RULES_DIRECTORY}/${name}`),
  });
  const yaceArchive = `yet-another-cloudwatch-exporter_${YACE_VERSION}_Linux_arm64.tar.gz`;
  return cloudConfig({
    packages: ["prometheus", "prometheus-blackbox-exporter", "curl"],
    files: [
      { path: "/etc/prometheus/prometheus.yml", content: stringify(prometheus) },
      ...ruleFiles(config, rules),
      { path: "/etc/prometheus/blackbox.yml", content: stringify(blackboxConfig({ timeScale: 1, requireTls: true })) },
      {
        path: "/etc/default/prometheus",
        content: `ARGS="--web.enable-remote-write-receiver --storage.tsdb.retention.time=${config.prometheusRetentionDays}d"\n`,
      },
      {
        path: "/etc/yace/config.yml",
        content: stringify(
          cloudwatchExporterConfig({
            region: input.region,
            functionName: input.functionName,
            tableName: input.tableName,
            receivingRegions: config.regions.filter((other) => other !== input.region),
          }),
        ),
      },
      {
        path: "/etc/systemd/system/yace.service",
        content: [
          "[Unit]",
          "Description=CloudWatch exporter (YACE) for the regional Prometheus",
          "After=network-online.target",
          "[Service]",
          "ExecStart=/usr/local/bin/yace --config.file=/etc/yace/config.yml --listen-address=127.0.0.1:5000",
          "Restart=always",
          "DynamicUser=yes",
          "[Install]",
          "WantedBy=multi-user.target",
          "",
        ].join("\n"),
      },
      {
        path: "/usr/local/sbin/calcburst-data-volume",
        content: dataVolumeScript(input.dataVolumeId, "/var/lib/prometheus", ["prometheus"]),
        permissions: "0755",
      },
    ],
    commands: [
      "/usr/local/sbin/calcburst-data-volume",
      ...SSM_AGENT_COMMANDS,
      `curl -fsSL https://github.com/prometheus-community/yet-another-cloudwatch-exporter/releases/download/v${YACE_VERSION}/${yaceArchive} | tar -xz -C /usr/local/bin yace`,
      "systemctl daemon-reload",
      "systemctl enable --now yace",
      "systemctl restart prometheus prometheus-blackbox-exporter",
    ],
  });
}

export interface GlobalUserDataInput {
  config: StackConfig;
  /** region → the regional Prometheus's private address (host:port). */
  regionalServers: { region: string; address: string }[];
  alertTopicArn: string;
  /** The SecureString parameter holding Grafana's admin password. */
  grafanaPasswordParameter: string;
  dataVolumeId: string;
}

/**
 * The global Prometheus (federation and alerts), Alertmanager (to SNS) and Grafana with the
 * dashboard and its datasource provisioned. All three listen on loopback only: people reach
 * Grafana through SSM port forwarding, and nothing needs to reach the others.
 */
export function globalUserData(input: GlobalUserDataInput): string {
  const { config } = input;
  const region = config.monitoringRegion;
  const rules = [RULE_FILES.global, RULE_FILES.alerts];
  const receiver: AlertReceiver = { kind: "sns", topicArn: input.alertTopicArn, region };
  const prometheus = globalPrometheusConfig({
    timeScale: 1,
    selfAddress: `127.0.0.1:${PROMETHEUS_PORT}`,
    regionalServers: input.regionalServers,
    alertmanagerAddress: "127.0.0.1:9093",
    ruleFiles: rules.map((name) => `${RULES_DIRECTORY}/${name}`),
  });
  return cloudConfig({
    packages: ["prometheus", "prometheus-alertmanager", "awscli", "curl", "gpg"],
    files: [
      { path: "/etc/prometheus/prometheus.yml", content: stringify(prometheus) },
      ...ruleFiles(config, rules),
      {
        path: "/etc/default/prometheus",
        content: `ARGS="--web.listen-address=127.0.0.1:${PROMETHEUS_PORT} --storage.tsdb.retention.time=${config.prometheusRetentionDays}d"\n`,
      },
      { path: "/etc/prometheus/alertmanager.yml", content: stringify(alertmanagerConfig({ receiver, timeScale: 1 })) },
      {
        path: "/etc/default/prometheus-alertmanager",
        content: 'ARGS="--web.listen-address=127.0.0.1:9093 --cluster.listen-address="\n',
      },
      {
        path: "/etc/grafana/provisioning/datasources/calcburst.yaml",
        content: stringify({
          apiVersion: 1,
          datasources: [
            {
              name: "Prometheus (global)",
              uid: "calcburst-global-prometheus",
              type: "prometheus",
              access: "proxy",
              url: `http://127.0.0.1:${PROMETHEUS_PORT}`,
              isDefault: true,
            },
          ],
        }),
      },
      {
        path: "/etc/grafana/provisioning/dashboards/calcburst.yaml",
        content: stringify({
          apiVersion: 1,
          providers: [{ name: "calcburst", type: "file", options: { path: DASHBOARDS_DIRECTORY } }],
        }),
      },
      {
        path: `${DASHBOARDS_DIRECTORY}/${DASHBOARD_UID}.json`,
        content: JSON.stringify(globalDashboard(config)),
      },
      {
        path: "/etc/systemd/system/grafana-server.service.d/calcburst.conf",
        content: [
          "[Service]",
          "Environment=GF_SERVER_HTTP_ADDR=127.0.0.1",
          "Environment=GF_SECURITY_ADMIN_PASSWORD__FILE=/etc/grafana/admin-password",
          "Environment=GF_ANALYTICS_REPORTING_ENABLED=false",
          "",
        ].join("\n"),
      },
      {
        path: "/usr/local/sbin/calcburst-data-volume",
        content: dataVolumeScript(input.dataVolumeId, "/var/lib/prometheus", ["prometheus", "prometheus-alertmanager"]),
        permissions: "0755",
      },
    ],
    commands: [
      "/usr/local/sbin/calcburst-data-volume",
      ...SSM_AGENT_COMMANDS,
      // Grafana's own apt repository (https://grafana.com/docs/grafana/latest/setup-grafana/installation/debian/).
      "mkdir -p /etc/apt/keyrings",
      "curl -fsSL https://apt.grafana.com/gpg.key | gpg --dearmor -o /etc/apt/keyrings/grafana.gpg",
      'echo "deb [signed-by=/etc/apt/keyrings/grafana.gpg] https://apt.grafana.com stable main" > /etc/apt/sources.list.d/grafana.list',
      "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q grafana",
      // The admin password is a Pulumi secret kept in Parameter Store, never in the user data.
      `aws ssm get-parameter --region ${region} --name ${input.grafanaPasswordParameter} --with-decryption --query Parameter.Value --output text > /etc/grafana/admin-password`,
      "chown root:grafana /etc/grafana/admin-password && chmod 0640 /etc/grafana/admin-password",
      "systemctl daemon-reload",
      "systemctl enable --now grafana-server",
      "systemctl restart prometheus prometheus-alertmanager",
    ],
  });
}
