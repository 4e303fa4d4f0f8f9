/**
 * One region's API as a process of the local cloud: sets the function's environment for the
 * region, then serves API Gateway's behaviour in front of the Lambda emulator.
 */

import { KILL_SWITCH_VARIABLE } from "../../shared/env.js";
import { type RegionSettings, readSettings, type SupervisorMessage, send, stopWithSupervisor } from "../cloud/ipc.js";
import { quietSdkNodeWarning } from "../sdk-warning.js";
import { LambdaEmulator, TokenBucket } from "./lambda.js";
import { startRegionServer } from "./server.js";

async function main(): Promise<void> {
  quietSdkNodeWarning();
  const settings = readSettings<RegionSettings>();
  // What Lambda and the Pulumi program set for the function in this region.
  Object.assign(process.env, {
    AWS_REGION: settings.region,
    TABLE_NAME: settings.tableName,
    DYNAMODB_ENDPOINT: settings.dynamodbEndpoint,
    CALCBURST_TTL_DAYS: String(settings.ttlDays),
    CALCBURST_HEALTH_CACHE_MS: String(settings.healthCacheMs),
    [KILL_SWITCH_VARIABLE]: String(settings.killSwitch),
    LOG_LEVEL: settings.logLevel,
  });
  const lambda = new LambdaEmulator({
    bundlePath: settings.bundlePath,
    timeoutMs: settings.timeoutMs,
    concurrency: settings.concurrency,
  });
  const server = await startRegionServer({
    region: settings.region,
    function: lambda,
    throttle: new TokenBucket(settings.throttleRatePerSecond, settings.throttleBurst),
    port: settings.port,
  });
  stopWithSupervisor(() => server.close());

  process.on("message", (message: SupervisorMessage) => {
    if (message.type === "set-kill-switch") {
      // A Lambda configuration change: new instances see the new environment.
      process.env[KILL_SWITCH_VARIABLE] = String(message.disabled);
      lambda.recycle();
      send({ type: "answer", requestId: message.requestId });
    } else if (message.type === "stats") {
      send({
        type: "answer",
        requestId: message.requestId,
        stats: {
          coldStarts: lambda.coldStarts,
          inFlight: lambda.inFlight,
          idleInstances: lambda.idleInstances,
          killSwitch: process.env[KILL_SWITCH_VARIABLE] === "true",
        },
      });
    }
  });
  send({ type: "ready", port: server.port });
}

main().catch((error: unknown) => {
  console.error(`region API failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
