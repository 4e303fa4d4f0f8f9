import { METRICS } from "../shared/metrics.js";
import { DASHBOARD_WINDOW } from "./slo.js";

/**
 * Five queries to start from, and which Prometheus answers each. The raw series the function
 * pushes (`calcburst_*`) live only in its region's Prometheus; the global one federates the
 * regional `region:` recordings, records `job:` series and evaluates the alerts. Asking the
 * global server for `calcburst_requests_total` returns nothing, by design.
 */
export interface StarterQuery {
  server: "global" | "regional";
  expr: string;
  shows: string;
}

export const STARTER_QUERIES: readonly StarterQuery[] = [
  {
    server: "global",
    expr: `sum by (region) (region:calcburst_requests:rate${DASHBOARD_WINDOW})`,
    shows: "user requests per second, per region",
  },
  {
    server: "global",
    expr: `region:${METRICS.requestDuration.name}:quantile_rate${DASHBOARD_WINDOW}{quantile="0.99"}`,
    shows: "p99 latency per region, in seconds",
  },
  {
    server: "global",
    expr: "region:calcburst_health:probe_success",
    shows: "1 while a region's /health answers 200 to its blackbox probe",
  },
  {
    server: "regional",
    expr: `sum by (route, status) (${METRICS.requests.name})`,
    shows: "the function's raw request counter by route and status, this region only",
  },
  {
    server: "regional",
    expr: `sum by (command, outcome) (${METRICS.dynamodbCallDuration.name}_count)`,
    shows: "DynamoDB calls by command and outcome, this region only",
  },
];
