import { readEnvironment } from "./environment.js";
import { createLogger } from "./logger.js";
import { createMetrics } from "./metrics.js";

// What one function instance creates once, at cold start, and every invocation shares.
// A missing or malformed variable fails right here, naming it.
export const environment = readEnvironment();

export const logger = createLogger({
  level: environment.LOG_LEVEL ?? "info",
  base: { service: "calcburst", region: environment.AWS_REGION },
});

/** The instance's registry; the monitoring issue exports it by remote-write. */
export const metrics = createMetrics();
