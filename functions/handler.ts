import { createApp } from "./app.js";
import { getDocumentClient } from "./commons/clients.js";
import { isRegionDisabled, readEnvironment } from "./commons/environment.js";
import { createLogger } from "./commons/logger.js";
import { createMetrics } from "./commons/metrics.js";
import { createHealthCheck } from "./health.js";
import { DynamoCalculationStore } from "./store.js";

// Everything below runs once per instance, at cold start.
const environment = readEnvironment();
const region = environment.AWS_REGION;

export const logger = createLogger({ level: environment.LOG_LEVEL ?? "info", base: { service: "calcburst", region } });
export const metrics = createMetrics();

const store = new DynamoCalculationStore({
  tableName: environment.TABLE_NAME,
  metrics,
  connect: () => getDocumentClient({ region, endpoint: environment.DYNAMODB_ENDPOINT }),
});

/** The Lambda entry point: API Gateway HTTP API, payload format 2.0. */
export const handler = createApp({
  region,
  store,
  logger,
  metrics,
  healthCheck: createHealthCheck({ store, isRegionDisabled: () => isRegionDisabled() }),
});
