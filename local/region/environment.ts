import { KILL_SWITCH_VARIABLE } from "../../shared/env.js";
import type { RegionSettings } from "../cloud/ipc.js";

/** What Lambda and the Pulumi program set for the function in this region. */
export function functionEnvironment(settings: RegionSettings): Record<string, string> {
  return {
    AWS_REGION: settings.region,
    TABLE_NAME: settings.tableName,
    DYNAMODB_ENDPOINT: settings.dynamodbEndpoint,
    CALCBURST_TTL_DAYS: String(settings.ttlDays),
    CALCBURST_HEALTH_CACHE_MS: String(settings.healthCacheMs),
    [KILL_SWITCH_VARIABLE]: String(settings.killSwitch),
    LOG_LEVEL: settings.logLevel,
    CALCBURST_METRICS_FLUSH_INTERVAL_MS: String(settings.metricsFlushIntervalMs),
    ...(settings.remoteWriteUrl !== undefined && { CALCBURST_REMOTE_WRITE_URL: settings.remoteWriteUrl }),
  };
}
