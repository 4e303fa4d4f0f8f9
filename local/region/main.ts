/**
 * One region's API as a process of the local cloud: sets the function's environment for the
 * region, then serves API Gateway's behaviour in front of the Lambda emulator.
 */

import { createServer } from "node:http";
import { Counter, Registry } from "prom-client";
import { KILL_SWITCH_VARIABLE } from "../../shared/env.js";
import { PLATFORM_METRICS } from "../../shared/metrics.js";
import { HEALTH_ROUTE } from "../../shared/stack-config.js";
import { type RegionSettings, readSettings, type SupervisorMessage, send, stopWithSupervisor } from "../cloud/ipc.js";
import { startDataEndpoint } from "../data/endpoint.js";
import { quietSdkNodeWarning } from "../sdk-warning.js";
import { AliasedFunction } from "./alias.js";
import { functionEnvironment } from "./environment.js";
import { TokenBucket } from "./lambda.js";
import { startRegionServer } from "./server.js";

async function main(): Promise<void> {
  quietSdkNodeWarning();
  const settings = readSettings<RegionSettings>();
  Object.assign(process.env, functionEnvironment(settings));
  // What CloudWatch reports about the region beside the function: here, the gateway's own 429s.
  const platform = new Registry();
  const throttles = new Counter({
    ...PLATFORM_METRICS.throttles,
    labelNames: PLATFORM_METRICS.throttles.labels,
    registers: [platform],
  });
  for (const reason of ["stage", "concurrency"]) throttles.inc({ reason }, 0);
  const metricsServer = createServer((_request, response) => {
    void platform.metrics().then((text) => {
      response.writeHead(200, { "content-type": platform.contentType });
      response.end(text);
    });
  });
  await new Promise<void>((resolve) => metricsServer.listen(settings.metricsPort, "127.0.0.1", resolve));
  const dataEndpoint =
    settings.dataEndpoint === undefined
      ? undefined
      : await startDataEndpoint({ region: settings.region, ...settings.dataEndpoint });
  const lambda = new AliasedFunction({
    routing: settings.function,
    timeoutMs: settings.timeoutMs,
    concurrency: settings.concurrency,
  });
  const server = await startRegionServer({
    region: settings.region,
    function: lambda,
    throttle: new TokenBucket(settings.throttleRatePerSecond, settings.throttleBurst),
    healthThrottle: new TokenBucket(HEALTH_ROUTE.rateLimit, HEALTH_ROUTE.burstLimit),
    port: settings.port,
    onThrottle: (reason) => throttles.inc({ reason }),
  });
  stopWithSupervisor(async () => {
    await server.close();
    // Each instance's last metrics flush, as Lambda's SIGTERM to retiring environments.
    await lambda.shutdown();
    await dataEndpoint?.close();
    metricsServer.close();
  });

  process.on("message", (message: SupervisorMessage) => {
    if (message.type === "set-kill-switch") {
      // A Lambda configuration change: new instances see the new environment.
      process.env[KILL_SWITCH_VARIABLE] = String(message.disabled);
      lambda.recycle();
      send({ type: "answer", requestId: message.requestId });
    } else if (message.type === "set-alias") {
      try {
        lambda.route(message.routing);
        send({ type: "answer", requestId: message.requestId });
      } catch (error) {
        send({ type: "answer", requestId: message.requestId, error: String(error) });
      }
    } else if (message.type === "set-isolated") {
      dataEndpoint?.setIsolated(message.isolated);
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
          alias: lambda.alias,
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
