import { HEALTH_ROUTE_LABEL, METRICS, PLATFORM_METRICS, REPLICATION_METRICS } from "../shared/metrics.js";
import type { StackConfig } from "../shared/stack-config.js";
import { durationMs, scaleDuration } from "./duration.js";
import {
  BURN_RATE_ALERTS,
  BURN_RATE_MIN_REQUESTS,
  DASHBOARD_WINDOW,
  errorBudget,
  LATENCY_QUANTILES,
  latencyBucketBound,
  SLI_WINDOWS,
  SLO_PERIOD,
  slos,
  THROTTLE_ALERT_RATIO,
} from "./slo.js";

/**
 * Recording rules and alerts, rendered from the stack config. Names follow
 * `level:metric:operations`: `region:` series are aggregated per region on each regional
 * Prometheus and are what the global Prometheus federates; `job:` series are the whole
 * service, recorded on the global one. A recording name keeps its nominal window (`rate5m`)
 * when the local cloud shrinks time.
 */

export type MonitoringTarget = "local" | "aws";

export interface RuleOptions {
  /** The local cloud's --time-scale: every window and `for` shrinks by it. 1 on AWS. */
  timeScale: number;
  /** Where docs/RUNBOOK.md is published; each alert links a section of it. */
  runbookUrl: string;
}

export interface RecordingRule {
  record: string;
  expr: string;
  labels?: Record<string, string>;
}

export interface AlertingRule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: "page" | "ticket" };
  annotations: { summary: string; description: string; runbook_url: string };
}

export interface RuleGroup {
  name: string;
  rules: (RecordingRule | AlertingRule)[];
}

export interface RuleFile {
  groups: RuleGroup[];
}

/** The job names the scrape configs and the rules share. */
export const JOBS = {
  health: "calcburst-health",
  platform: "calcburst-platform",
  federate: "federate",
} as const;

/** A rate window needs a few samples even when the local cloud shrinks time. */
const MIN_SCALED_WINDOW_MS = 3000;

/** The requests the SLOs count: users', not health probes'. */
export const USER_REQUESTS = `route!="${HEALTH_ROUTE_LABEL}"`;

/** A rule's window as the local cloud's time scale shrinks it (the local release reads the same). */
export function scaledWindow(window: string, timeScale: number): string {
  return scaleDuration(window, timeScale, MIN_SCALED_WINDOW_MS);
}

function windowOf(options: RuleOptions) {
  return (window: string) => scaledWindow(window, options.timeScale);
}

/** Per region, from the function's remote-written metrics and the health probe. */
export function regionalRules(config: StackConfig, options: RuleOptions): RuleFile {
  const scaled = windowOf(options);
  const requests = METRICS.requests.name;
  const duration = METRICS.requestDuration.name;
  const slowBound = latencyBucketBound(config);
  const sliRules = [DASHBOARD_WINDOW, ...SLI_WINDOWS].flatMap((window): RecordingRule[] => {
    const range = scaled(window);
    const all = `sum by (region) (rate(${requests}{${USER_REQUESTS}}[${range}]))`;
    return [
      { record: `region:calcburst_requests:rate${window}`, expr: all },
      {
        // "or … * 0": a region with traffic and no errors records 0, not nothing.
        record: `region:calcburst_requests_errors:rate${window}`,
        expr: `sum by (region) (rate(${requests}{${USER_REQUESTS},status=~"5.."}[${range}])) or ${all} * 0`,
      },
      {
        record: `region:calcburst_requests_slow:rate${window}`,
        expr: `sum by (region) (rate(${duration}_count{${USER_REQUESTS}}[${range}])) - sum by (region) (rate(${duration}_bucket{${USER_REQUESTS},le="${slowBound}"}[${range}]))`,
      },
    ];
  });
  const dashboardRange = scaled(DASHBOARD_WINDOW);
  return {
    groups: [
      {
        name: "calcburst-regional",
        rules: [
          ...sliRules,
          {
            record: `region:${duration}_bucket:rate${DASHBOARD_WINDOW}`,
            expr: `sum by (region, le) (rate(${duration}_bucket{${USER_REQUESTS}}[${dashboardRange}]))`,
          },
          ...LATENCY_QUANTILES.map((quantile) => ({
            record: `region:${duration}:quantile_rate${DASHBOARD_WINDOW}`,
            expr: `histogram_quantile(${quantile}, sum by (region, le) (rate(${duration}_bucket{${USER_REQUESTS}}[${dashboardRange}])))`,
            labels: { quantile },
          })),
          {
            record: "region:calcburst_health:probe_success",
            expr: `max by (region) (probe_success{job="${JOBS.health}"})`,
          },
        ],
      },
    ],
  };
}

/**
 * Throttles and replication lag, which the platform reports rather than the function. Both
 * targets record the same `region:` series, so the global rules and the dashboard do not care
 * which one they run on.
 */
export function platformRules(
  options: RuleOptions & {
    /** Where the platform metrics come from: the local cloud's processes or the CloudWatch exporter. */
    target: MonitoringTarget;
  },
): RuleFile {
  const scaled = windowOf(options);
  const throttleWindows = [DASHBOARD_WINDOW, "5m"];
  const lag = REPLICATION_METRICS.lag.name;
  const rules: RecordingRule[] =
    options.target === "local"
      ? [
          ...throttleWindows.map((window) => ({
            record: `region:calcburst_throttles:rate${window}`,
            expr: `sum by (region) (rate(${PLATFORM_METRICS.throttles.name}{job="${JOBS.platform}"}[${scaled(window)}]))`,
          })),
          {
            // The replicator's histogram, kept to changes this region sent (see the scrape config).
            record: `region:${lag}:p99_rate5m`,
            expr: `histogram_quantile(0.99, sum by (region, target_region, le) (rate(${lag}_bucket{job="${JOBS.platform}"}[${scaled("5m")}])))`,
          },
        ]
      : [
          // The CloudWatch exporter reports each minute's sum; a rate is that over 60 s.
          ...throttleWindows.map((window) => ({
            record: `region:calcburst_throttles:rate${window}`,
            expr: `sum by (region) (avg_over_time(aws_lambda_throttles_sum{job="${JOBS.platform}"}[${scaled(window)}])) / 60`,
          })),
          {
            // CloudWatch gives ReplicationLatency's average and maximum per minute, in ms, in the
            // sending region; the maximum stands in for p99 (an upper bound of it).
            record: `region:${lag}:p99_rate5m`,
            expr: `max by (region, target_region) (label_replace(max_over_time(aws_dynamodb_replication_latency_maximum{job="${JOBS.platform}"}[${scaled("5m")}]), "target_region", "$1", "dimension_ReceivingRegion", "(.+)")) / 1000`,
          },
        ];
  return { groups: [{ name: `calcburst-platform-${options.target}`, rules }] };
}

/** Whole-service series on the global Prometheus, from the federated `region:` series. */
export function globalRules(config: StackConfig, options: RuleOptions): RuleFile {
  const scaled = windowOf(options);
  const duration = METRICS.requestDuration.name;
  const perWindow = SLI_WINDOWS.flatMap((window): RecordingRule[] => [
    { record: `job:calcburst_requests:rate${window}`, expr: `sum(region:calcburst_requests:rate${window})` },
    {
      record: `job:calcburst_availability_errors:ratio_rate${window}`,
      expr: `sum(region:calcburst_requests_errors:rate${window}) / sum(region:calcburst_requests:rate${window})`,
    },
    {
      record: `job:calcburst_latency_slow:ratio_rate${window}`,
      expr: `sum(region:calcburst_requests_slow:rate${window}) / sum(region:calcburst_requests:rate${window})`,
    },
  ]);
  const shortest = SLI_WINDOWS[0];
  const period = scaled(SLO_PERIOD);
  const budgets = slos(config).flatMap((slo): RecordingRule[] => [
    {
      // The period's error ratio as the mean of the shortest window's, as sloth records it.
      record: `job:calcburst_${slo.sli}:ratio_rate${SLO_PERIOD}`,
      expr: `sum_over_time(job:calcburst_${slo.sli}:ratio_rate${shortest}[${period}]) / count_over_time(job:calcburst_${slo.sli}:ratio_rate${shortest}[${period}])`,
    },
    {
      record: `job:calcburst_${slo.sli}:error_budget_remaining`,
      expr: `1 - job:calcburst_${slo.sli}:ratio_rate${SLO_PERIOD} / ${errorBudget(slo)}`,
    },
  ]);
  return {
    groups: [
      {
        name: "calcburst-global",
        rules: [
          ...perWindow,
          ...LATENCY_QUANTILES.map((quantile) => ({
            record: `job:${duration}:quantile_rate${DASHBOARD_WINDOW}`,
            expr: `histogram_quantile(${quantile}, sum by (le) (region:${duration}_bucket:rate${DASHBOARD_WINDOW}))`,
            labels: { quantile },
          })),
        ],
      },
      // Its own group: the period's mean reads the per-window series recorded just before.
      { name: "calcburst-error-budget", rules: budgets },
    ],
  };
}

function percent(ratio: number): string {
  return `${Number((ratio * 100).toPrecision(6))}%`;
}

/** Alerts, evaluated on the global Prometheus and sent to Alertmanager. */
export function alertRules(config: StackConfig, options: RuleOptions): RuleFile {
  const scaled = (text: string) => scaleDuration(text, options.timeScale);
  // The recorded rate's window as the regional rules scaled it, so rate × seconds is a count.
  const windowSeconds = (window: string) => durationMs(windowOf(options)(window)) / 1000;
  const runbook = (anchor: string) => `${options.runbookUrl}#${anchor}`;
  const burnAlerts = slos(config).flatMap((slo): AlertingRule[] =>
    (["page", "ticket"] as const).map((severity) => {
      const pairs = BURN_RATE_ALERTS.filter((alert) => alert.severity === severity);
      const expr = pairs
        .map(
          ({ burnRate, longWindow, shortWindow }) =>
            `(job:calcburst_${slo.sli}:ratio_rate${longWindow} > ${burnRate} * ${errorBudget(slo)} and job:calcburst_${slo.sli}:ratio_rate${shortWindow} > ${burnRate} * ${errorBudget(slo)} and job:calcburst_requests:rate${longWindow} * ${windowSeconds(longWindow)} >= ${BURN_RATE_MIN_REQUESTS})`,
        )
        .join("\nor\n");
      const speed = severity === "page" ? "Fast" : "Slow";
      const windows = pairs
        .map(({ burnRate, longWindow, shortWindow }) => `${burnRate}× over ${longWindow} and ${shortWindow}`)
        .join(", or ");
      const floor = `at least ${BURN_RATE_MIN_REQUESTS} requests over the long window`;
      return {
        alert: `CalcBurst${slo.name}${speed}Burn`,
        expr,
        // The short window already debounces: the workbook's alerts fire at once.
        labels: { severity },
        annotations: {
          summary: `CalcBurst is spending its ${slo.name.toLowerCase()} error budget ${speed === "Fast" ? "fast" : "steadily"}`,
          description: `The share of ${slo.badEvents} is burning the ${percent(slo.objective)} objective's budget at ${windows}, ${floor} (now {{ $value | humanizePercentage }} of requests over the long window).`,
          runbook_url: runbook(`calcburst${slo.name.toLowerCase()}${speed.toLowerCase()}burn`),
        },
      };
    }),
  );
  const exhausted = slos(config).map(
    (slo): AlertingRule => ({
      alert: `CalcBurst${slo.name}BudgetExhausted`,
      expr: `job:calcburst_${slo.sli}:error_budget_remaining <= 0`,
      for: scaled("15m"),
      labels: { severity: "ticket" },
      annotations: {
        summary: `CalcBurst has spent its ${SLO_PERIOD} ${slo.name.toLowerCase()} error budget`,
        description: `${slo.badEvents.charAt(0).toUpperCase()}${slo.badEvents.slice(1)} over the last ${SLO_PERIOD} exceed the ${percent(slo.objective)} objective (remaining budget {{ $value | humanizePercentage }}). Freeze risky changes until it recovers.`,
        runbook_url: runbook(`calcburst${slo.name.toLowerCase()}budgetexhausted`),
      },
    }),
  );
  return {
    groups: [
      {
        name: "calcburst-slo-alerts",
        rules: [...burnAlerts, ...exhausted],
      },
      {
        name: "calcburst-region-alerts",
        rules: [
          {
            alert: "CalcBurstRegionDown",
            expr: `max by (region) (region:calcburst_health:probe_success) == 0\nor\nmax by (region) (up{job="${JOBS.federate}"}) == 0`,
            for: scaled("1m"),
            labels: { severity: "page" },
            annotations: {
              summary: "CalcBurst region {{ $labels.region }} is down",
              description:
                "{{ $labels.region }} fails its deep health check (/health answers non-200 or not at all), or its regional Prometheus cannot be federated. Route 53 sends its clients elsewhere; check that the other regions carry them.",
              runbook_url: runbook("calcburstregiondown"),
            },
          },
          {
            alert: "CalcBurstReplicationLagHigh",
            expr: `max by (region, target_region) (region:${REPLICATION_METRICS.lag.name}:p99_rate5m) > ${config.replicationLagAlertSeconds}`,
            for: scaled("5m"),
            labels: { severity: "page" },
            annotations: {
              summary: "Writes from {{ $labels.region }} reach {{ $labels.target_region }} late",
              description: `The p99 replication lag from {{ $labels.region }} to {{ $labels.target_region }} is {{ $value | humanizeDuration }}, over ${config.replicationLagAlertSeconds} s: acknowledged writes there are exposed if {{ $labels.region }} fails now.`,
              runbook_url: runbook("calcburstreplicationlaghigh"),
            },
          },
          {
            alert: "CalcBurstHighThrottleRate",
            expr: `sum by (region) (region:calcburst_throttles:rate5m) / (sum by (region) (region:calcburst_requests:rate5m) + sum by (region) (region:calcburst_throttles:rate5m)) > ${THROTTLE_ALERT_RATIO}`,
            for: scaled("5m"),
            labels: { severity: "ticket" },
            annotations: {
              summary: "CalcBurst throttles requests in {{ $labels.region }}",
              description: `{{ $value | humanizePercentage }} of the requests offered to {{ $labels.region }} get a 429 before the function runs (over ${percent(THROTTLE_ALERT_RATIO)}): stage throttling or reserved concurrency is too low for the traffic.`,
              runbook_url: runbook("calcbursthighthrottlerate"),
            },
          },
        ],
      },
    ],
  };
}
