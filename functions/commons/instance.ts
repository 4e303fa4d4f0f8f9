import { randomBytes } from "node:crypto";
import {
  DEFAULT_METRICS_FLUSH_BUDGET_MS,
  DEFAULT_METRICS_FLUSH_INTERVAL_MS,
  FUNCTION_METRICS_JOB,
} from "../../shared/env.js";
import { readEnvironment } from "./environment.js";
import { createLogger } from "./logger.js";
import { createMetrics } from "./metrics.js";
import { MetricsFlusher } from "./metrics-flush.js";

// What one function instance creates once, at cold start, and every invocation shares.
// A missing or malformed variable fails right here, naming it.
export const environment = readEnvironment();

/**
 * The execution environment's name. On Lambda it is the log stream's suffix, so a series
 * leads to the instance's logs; elsewhere a random one.
 */
export const instanceId =
  /\]([0-9a-f]{8,})$/.exec(process.env.AWS_LAMBDA_LOG_STREAM_NAME ?? "")?.[1] ?? randomBytes(6).toString("hex");

/**
 * The published version this instance runs: Lambda sets it ("$LATEST" for unpublished code, else
 * 1, 2, …), and the local cloud sets it per version behind its alias. A release reads one
 * version's error rate and latency by it.
 */
export const functionVersion = process.env.AWS_LAMBDA_FUNCTION_VERSION ?? "$LATEST";

export const logger = createLogger({
  level: environment.LOG_LEVEL ?? "info",
  base: { service: "calcburst", region: environment.AWS_REGION, instance: instanceId },
});

/** The instance's own registry: nothing global leaks between instances. */
export const metrics = createMetrics();

/** Pushes the registry to the regional Prometheus, when the stack gives one. */
export const metricsFlusher =
  environment.CALCBURST_REMOTE_WRITE_URL === undefined
    ? undefined
    : new MetricsFlusher({
        url: environment.CALCBURST_REMOTE_WRITE_URL,
        registry: metrics.registry,
        labels: {
          job: FUNCTION_METRICS_JOB,
          region: environment.AWS_REGION,
          instance: instanceId,
          version: functionVersion,
        },
        intervalMs: Number(environment.CALCBURST_METRICS_FLUSH_INTERVAL_MS ?? DEFAULT_METRICS_FLUSH_INTERVAL_MS),
        budgetMs: Number(environment.CALCBURST_METRICS_FLUSH_BUDGET_MS ?? DEFAULT_METRICS_FLUSH_BUDGET_MS),
        onFailure: (message) => logger.warn("metrics flush failed", { error: message }),
      });
