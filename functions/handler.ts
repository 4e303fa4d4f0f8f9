import { type ApiHandler, createApp } from "./app.js";
import { getDocumentClient } from "./commons/clients.js";
import { isRegionDisabled } from "./commons/environment.js";
import { environment, logger, metrics, metricsFlusher } from "./commons/instance.js";
import { createHealthCheck } from "./health.js";
import { DynamoCalculationStore } from "./store.js";

const region = environment.AWS_REGION;

const store = new DynamoCalculationStore({
  tableName: environment.TABLE_NAME,
  metrics,
  connect: () => getDocumentClient({ region, endpoint: environment.DYNAMODB_ENDPOINT }),
});

export { metrics };

const app = createApp({
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

/**
 * The Lambda entry point: API Gateway HTTP API, payload format 2.0. When a flush is due it runs
 * before the response is returned, because Lambda freezes the instance right after; the flush
 * budget bounds what that one invocation waits.
 */
export const handler: ApiHandler = async (event, context) => {
  const response = await app(event, context);
  await metricsFlusher?.flushIfDue();
  return response;
};

/** The instance's last flush. The local cloud calls it when it retires an instance. */
export async function shutdown(): Promise<void> {
  await metricsFlusher?.shutdown();
}

// Lambda sends SIGTERM before it retires an execution environment (when an extension is
// registered); that is the instance's shutdown.
if (process.env.AWS_LAMBDA_FUNCTION_NAME !== undefined && metricsFlusher !== undefined) {
  process.once("SIGTERM", () => {
    shutdown().finally(() => process.exit(0));
  });
}
