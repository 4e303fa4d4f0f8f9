import type * as PromClient from "prom-client";

// prom-client's index eagerly loads the Pushgateway, cluster aggregation, Summary (with its
// t-digest) and the default process metrics (with OpenTelemetry). The function uses none of
// them, so it loads the three classes it needs: a smaller bundle and a faster cold start.
const Counter: typeof PromClient.Counter = require("prom-client/lib/counter");
const Histogram: typeof PromClient.Histogram = require("prom-client/lib/histogram");
const Registry: typeof PromClient.Registry = require("prom-client/lib/registry");

import { METRICS } from "../../shared/metrics.js";

/** The function's RED metrics in their own registry, so nothing global leaks between instances. */
export function createMetrics(registry: PromClient.Registry = new Registry()) {
  const { requests, requestDuration, dynamodbCallDuration, coldStarts, batchItems } = METRICS;
  return {
    registry,
    requests: new Counter({ ...requests, labelNames: requests.labels, registers: [registry] }),
    requestDuration: new Histogram({
      ...requestDuration,
      buckets: [...requestDuration.buckets],
      labelNames: requestDuration.labels,
      registers: [registry],
    }),
    dynamodbCallDuration: new Histogram({
      ...dynamodbCallDuration,
      buckets: [...dynamodbCallDuration.buckets],
      labelNames: dynamodbCallDuration.labels,
      registers: [registry],
    }),
    coldStarts: new Counter({ ...coldStarts, labelNames: coldStarts.labels, registers: [registry] }),
    batchItems: new Counter({ ...batchItems, labelNames: batchItems.labels, registers: [registry] }),
  };
}

export type FunctionMetrics = ReturnType<typeof createMetrics>;
