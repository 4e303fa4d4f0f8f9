import { createApp } from "./app.js";
import { getDocumentClient } from "./commons/clients.js";
import { isRegionDisabled } from "./commons/environment.js";
import { environment, logger, metrics } from "./commons/instance.js";
import { createHealthCheck } from "./health.js";
import { DynamoCalculationStore } from "./store.js";

const region = environment.AWS_REGION;

const store = new DynamoCalculationStore({
  tableName: environment.TABLE_NAME,
  metrics,
  connect: () => getDocumentClient({ region, endpoint: environment.DYNAMODB_ENDPOINT }),
});

export { metrics };

/** The Lambda entry point: API Gateway HTTP API, payload format 2.0. */
export const handler = createApp({
  region,
  store,
  logger,
  metrics,
  healthCheck: createHealthCheck({
    store,
    isRegionDisabled,
    ...(environment.CALCBURST_HEALTH_CACHE_MS !== undefined && {
      cacheMs: Number(environment.CALCBURST_HEALTH_CACHE_MS),
    }),
  }),
  ...(environment.CALCBURST_TTL_DAYS !== undefined && { ttlDays: Number(environment.CALCBURST_TTL_DAYS) }),
});
