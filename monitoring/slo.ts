import { METRICS } from "../shared/metrics.js";
import type { StackConfig } from "../shared/stack-config.js";

/**
 * The service level objectives and their multi-window, multi-burn-rate alerts (The SRE
 * Workbook, "Alerting on SLOs", table 5-8). Everything here is data: the rule renderer turns it
 * into recording rules and alerts, and the dashboard reads it for its burn panels.
 */

/** The period an error budget is spent over. */
export const SLO_PERIOD = "30d";

export interface BurnRateAlert {
  /** page: someone is woken; ticket: it waits for working hours. */
  severity: "page" | "ticket";
  /** How many times faster than sustainable the budget is being spent. */
  burnRate: number;
  longWindow: string;
  shortWindow: string;
}

/** 14.4 over 1 h spends 2% of a 30-day budget; 6 over 6 h spends 5%; 3 over 1 d and 1 over 3 d spend 10%. */
export const BURN_RATE_ALERTS: readonly BurnRateAlert[] = [
  { severity: "page", burnRate: 14.4, longWindow: "1h", shortWindow: "5m" },
  { severity: "page", burnRate: 6, longWindow: "6h", shortWindow: "30m" },
  { severity: "ticket", burnRate: 3, longWindow: "1d", shortWindow: "2h" },
  { severity: "ticket", burnRate: 1, longWindow: "3d", shortWindow: "6h" },
];

/**
 * A burn-rate alert needs at least this many requests over its long window. A handful of
 * requests (a demo, one cold start) makes any ratio look like a burning budget; the SRE
 * Workbook's answer for low traffic is a minimum count before the ratio means anything.
 */
export const BURN_RATE_MIN_REQUESTS = 100;

/** The window of the dashboards' rates and quantiles. */
export const DASHBOARD_WINDOW = "1m";

/** Every window an SLI is recorded over: the burn-rate windows, shortest first. */
export const SLI_WINDOWS: readonly string[] = (() => {
  const order = (text: string) =>
    Number.parseInt(text, 10) * { m: 1, h: 60, d: 1440 }[text.slice(-1) as "m" | "h" | "d"];
  const windows = new Set(BURN_RATE_ALERTS.flatMap(({ longWindow, shortWindow }) => [longWindow, shortWindow]));
  return [...windows].sort((a, b) => order(a) - order(b));
})();

/** Quantiles the dashboards show; p99 is the latency objective's. */
export const LATENCY_QUANTILES = ["0.5", "0.95", "0.99"] as const;

export interface Slo {
  /** CamelCase, for alert names: CalcBurst<Name>FastBurn. */
  name: "Availability" | "Latency";
  /** snake_case, for recording rule names. */
  sli: "availability_errors" | "latency_slow";
  objective: number;
  /** What a bad event is, in words, for alert descriptions. */
  badEvents: string;
}

export function slos(config: StackConfig): Slo[] {
  return [
    {
      name: "Availability",
      sli: "availability_errors",
      objective: config.availabilityObjective,
      badEvents: "requests answered with a 5xx",
    },
    {
      name: "Latency",
      sli: "latency_slow",
      objective: 0.99,
      badEvents: `requests slower than ${config.latencyObjectiveMs} ms`,
    },
  ];
}

/** The share of bad events the objective allows, written without float noise (1 - 0.9995 is 0.000499999…). */
export function errorBudget(slo: Slo): number {
  return Number((1 - slo.objective).toPrecision(6));
}

/** The request-duration bucket bound (`le`, as prom-client writes it) of the latency objective. */
export function latencyBucketBound(config: StackConfig): string {
  const seconds = config.latencyObjectiveMs / 1000;
  const bound = METRICS.requestDuration.buckets.find((bucket) => bucket === seconds);
  if (bound === undefined) throw new Error(`latencyObjectiveMs ${config.latencyObjectiveMs} is not a bucket bound`);
  return String(bound);
}

/** Offered requests a region may refuse for throttling before HighThrottleRate fires. */
export const THROTTLE_ALERT_RATIO = 0.01;
