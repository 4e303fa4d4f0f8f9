import { scaleDuration } from "./duration.js";
import { JOBS, type MonitoringTarget } from "./rules.js";

/**
 * prometheus.yml for the regional and the global servers. The local cloud and the AWS
 * components render them with the same functions; only the addresses differ.
 */

/** Prometheus's own default; the local cloud shrinks it with --time-scale. */
const SCRAPE_INTERVAL = "15s";

/** Every series the global server takes from a regional one: the recordings, and `up`. */
export const FEDERATION_MATCHERS = ['{__name__=~"region:.+"}', '{__name__=~"job:.+"}', "up"] as const;

export interface RegionalPrometheusInput {
  region: string;
  target: MonitoringTarget;
  timeScale: number;
  /** host:port this server listens on, for its own scrape. */
  selfAddress: string;
  /** host:port of the blackbox exporter that probes the region's /health. */
  blackboxAddress: string;
  /** The URL Route 53 checks: the region's own name, /health. */
  healthUrl: string;
  /** host:port of what reports throttles and replication lag: the local processes or the CloudWatch exporter. */
  platformAddresses: string[];
  ruleFiles: string[];
}

export interface GlobalPrometheusInput {
  timeScale: number;
  selfAddress: string;
  regionalServers: { region: string; address: string }[];
  alertmanagerAddress: string;
  ruleFiles: string[];
}

export function scrapeInterval(timeScale: number): string {
  return scaleDuration(SCRAPE_INTERVAL, timeScale);
}

function globalSection(timeScale: number, externalLabels: Record<string, string>) {
  const interval = scrapeInterval(timeScale);
  return {
    scrape_interval: interval,
    // A probe or a federation answer may take the whole interval, never more.
    scrape_timeout: interval,
    evaluation_interval: interval,
    external_labels: externalLabels,
  };
}

export function regionalPrometheusConfig(input: RegionalPrometheusInput) {
  const regionLabel = { region: input.region };
  return {
    global: globalSection(input.timeScale, regionLabel),
    rule_files: input.ruleFiles,
    scrape_configs: [
      { job_name: "prometheus", static_configs: [{ targets: [input.selfAddress], labels: regionLabel }] },
      {
        // The blackbox exporter asks /health what Route 53 asks it; probe_success is the answer.
        job_name: JOBS.health,
        metrics_path: "/probe",
        params: { module: [BLACKBOX_MODULE] },
        static_configs: [{ targets: [input.healthUrl], labels: regionLabel }],
        relabel_configs: [
          { source_labels: ["__address__"], target_label: "__param_target" },
          { source_labels: ["__param_target"], target_label: "instance" },
          { target_label: "__address__", replacement: input.blackboxAddress },
        ],
      },
      {
        job_name: JOBS.platform,
        static_configs: [{ targets: input.platformAddresses, labels: regionLabel }],
        // Replication series are kept by the sending region only, where CloudWatch reports
        // ReplicationLatency too; series without a source_region pass.
        metric_relabel_configs: [{ source_labels: ["source_region"], regex: `|${input.region}`, action: "keep" }],
      },
    ],
  };
}

export function globalPrometheusConfig(input: GlobalPrometheusInput) {
  return {
    global: globalSection(input.timeScale, { monitor: "calcburst-global" }),
    rule_files: input.ruleFiles,
    alerting: { alertmanagers: [{ static_configs: [{ targets: [input.alertmanagerAddress] }] }] },
    scrape_configs: [
      { job_name: "prometheus", static_configs: [{ targets: [input.selfAddress] }] },
      { job_name: "alertmanager", static_configs: [{ targets: [input.alertmanagerAddress] }] },
      {
        job_name: JOBS.federate,
        metrics_path: "/federate",
        // The regional series keep their own labels; the regional server's external label
        // `region` marks each one's origin.
        honor_labels: true,
        params: { "match[]": [...FEDERATION_MATCHERS] },
        static_configs: input.regionalServers.map(({ region, address }) => ({
          targets: [address],
          labels: { region },
        })),
      },
    ],
  };
}

/** The blackbox exporter module the health probe uses. */
export const BLACKBOX_MODULE = "calcburst_health";

/** blackbox.yml: a GET of /health that passes on 200 only, as Route 53's check does. */
export function blackboxConfig(input: { timeScale: number; requireTls: boolean }) {
  return {
    modules: {
      [BLACKBOX_MODULE]: {
        prober: "http",
        timeout: scaleDuration("4s", input.timeScale),
        http: {
          method: "GET",
          valid_status_codes: [200],
          preferred_ip_protocol: "ip4",
          fail_if_not_ssl: input.requireTls,
        },
      },
    },
  };
}

/**
 * The CloudWatch exporter (YACE) beside each regional Prometheus on AWS: Lambda throttles and
 * the global table's ReplicationLatency, which the local cloud's processes report themselves.
 * CloudWatch publishes ReplicationLatency per TableName and ReceivingRegion and answers only a
 * query that names both, so there is one job per region this one replicates to.
 */
export function cloudwatchExporterConfig(input: {
  region: string;
  functionName: string;
  tableName: string;
  receivingRegions: string[];
}) {
  const window = { period: 60, length: 300 };
  return {
    apiVersion: "v1alpha1",
    static: [
      {
        namespace: "AWS/Lambda",
        name: "calcburst-function",
        regions: [input.region],
        dimensions: [{ name: "FunctionName", value: input.functionName }],
        metrics: [{ name: "Throttles", statistics: ["Sum"], ...window }],
      },
      ...input.receivingRegions.map((receivingRegion) => ({
        namespace: "AWS/DynamoDB",
        name: `calcburst-table-to-${receivingRegion}`,
        regions: [input.region],
        dimensions: [
          { name: "TableName", value: input.tableName },
          { name: "ReceivingRegion", value: receivingRegion },
        ],
        metrics: [{ name: "ReplicationLatency", statistics: ["Average", "Maximum"], ...window }],
      })),
    ],
  };
}
