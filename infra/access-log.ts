/** The HTTP API stage's access-log line (JSON), one per request. */
export const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: "$context.requestId",
  ip: "$context.identity.sourceIp",
  requestTime: "$context.requestTime",
  routeKey: "$context.routeKey",
  status: "$context.status",
  responseLength: "$context.responseLength",
  latencyMs: "$context.responseLatency",
  integrationStatus: "$context.integrationStatus",
  integrationLatencyMs: "$context.integrationLatency",
  integrationError: "$context.integrationErrorMessage",
  domainName: "$context.domainName",
});

/** The line for a typical successful write, to size the logs in the cost model. */
export const TYPICAL_ACCESS_LOG_LINE = ACCESS_LOG_FORMAT.replace("$context.requestId", "Jx2bKgQmoAMEbFg=")
  .replace("$context.identity.sourceIp", "203.0.113.42")
  .replace("$context.requestTime", "22/Nov/2026:08:12:15 +0000")
  .replace("$context.routeKey", "POST /v1/calculations")
  .replace("$context.status", "201")
  .replace("$context.responseLength", "215")
  .replace("$context.responseLatency", "23")
  .replace("$context.integrationStatus", "200")
  .replace("$context.integrationLatency", "21")
  .replace("$context.integrationErrorMessage", "-")
  .replace("$context.domainName", "api.example.com");
