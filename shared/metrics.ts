/**
 * The function's Prometheus metrics (prom-client). Names follow Prometheus conventions:
 * base units, `_total` on counters. The monitoring rules and dashboards refer to these names.
 */
export const METRICS = {
  requests: {
    name: "calcburst_requests_total",
    help: "Requests handled, by route, operation and HTTP status code.",
    labels: ["route", "operation", "status"],
  },
  requestDuration: {
    name: "calcburst_request_duration_seconds",
    help: "Time from receiving the event to returning the response, by route.",
    labels: ["route"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  },
  dynamodbCallDuration: {
    name: "calcburst_dynamodb_call_duration_seconds",
    help: "DynamoDB call latency including SDK retries, by command and outcome (ok, conditional_failed, error).",
    labels: ["command", "outcome"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  },
  coldStarts: {
    name: "calcburst_cold_starts_total",
    help: "Function instances initialised (one per cold start).",
    labels: [],
  },
  batchItems: {
    name: "calcburst_batch_items_total",
    help: "Batch items, by outcome (created, replayed, rejected, conflict, unacknowledged).",
    labels: ["outcome"],
  },
} as const;

/** The `route` label of health checks, which the SLOs leave out: they are probes, not users. */
export const HEALTH_ROUTE_LABEL = "GET /health";

/** The `operation` label value for requests that carry no valid operation. */
export const NO_OPERATION_LABEL = "none";

/**
 * The local cloud's replicator (the global table's stand-in). `lag` is the counterpart of the
 * global table's CloudWatch `ReplicationLatency`: the age of a change when the other region has it.
 */
export const REPLICATION_METRICS = {
  lag: {
    name: "calcburst_replication_latency_seconds",
    help: "Age of a change (now minus when its own region applied it) when it was applied to another region.",
    labels: ["source_region", "target_region"],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  },
  records: {
    name: "calcburst_replication_records_total",
    help: "Stream records offered to another region, by event and outcome (applied, superseded, echo, sentinel).",
    labels: ["source_region", "target_region", "event", "outcome"],
  },
  errors: {
    name: "calcburst_replication_errors_total",
    help: "Failed reads of the source stream or writes to the target, each retried with backoff.",
    labels: ["source_region", "target_region"],
  },
} as const;

/**
 * What the platform reports about a region, beside the function: on AWS, CloudWatch (Lambda
 * throttles, DynamoDB ReplicationLatency) through the CloudWatch exporter; in the local cloud,
 * the region's API process and the replicator.
 */
export const PLATFORM_METRICS = {
  throttles: {
    name: "calcburst_platform_throttles_total",
    help: "Requests refused with 429 before the function ran: stage throttling (stage) or no concurrency left (concurrency).",
    labels: ["reason"],
  },
} as const;
