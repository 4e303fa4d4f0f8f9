/**
 * The replicator as a process of the local cloud. It serves `/metrics` (Prometheus text) and
 * `/status` (JSON) on loopback, and takes isolate/rejoin orders from the supervisor.
 */

import type { AddressInfo } from "node:net";
import {
  type ReplicatorSettings,
  readSettings,
  type SupervisorMessage,
  send,
  stopWithSupervisor,
} from "../cloud/ipc.js";
import { createFrontDoor } from "../http/front-door.js";
import { quietSdkNodeWarning } from "../sdk-warning.js";
import { CheckpointStore } from "./checkpoints.js";
import { Replicator } from "./replicator.js";

async function main(): Promise<void> {
  quietSdkNodeWarning();
  const settings = readSettings<ReplicatorSettings>();
  const replicator = new Replicator({
    replicas: settings.replicas,
    checkpoints: new CheckpointStore(settings.checkpointFile),
    isolated: settings.isolated,
    pollIntervalMs: settings.pollIntervalMs,
    stampAtStream: settings.stampAtStream,
  });
  const server = createFrontDoor({
    name: "replicator",
    style: "problem",
    handle: async (request, response) => {
      request.resume();
      if (request.url === "/metrics") {
        const text = await replicator.metrics.registry.metrics();
        response.writeHead(200, { "content-type": replicator.metrics.registry.contentType });
        response.end(text);
      } else if (request.url === "/status" && request.method === "GET") {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify(replicator.status()));
      } else if (request.url === "/status/lag" && request.method === "DELETE") {
        replicator.resetLag();
        response.writeHead(204).end();
      } else {
        response.writeHead(404, { "content-type": "application/json" });
        response.end(JSON.stringify({ message: "the replicator serves GET /metrics and GET /status" }));
      }
    },
  });
  await new Promise<void>((resolve) => server.listen(settings.port, "127.0.0.1", resolve));
  stopWithSupervisor(async () => {
    server.closeAllConnections();
    server.close();
    await replicator.stop();
  });
  process.on("message", (message: SupervisorMessage) => {
    if (message.type === "isolate") replicator.isolate(message.region);
    else if (message.type === "rejoin") replicator.rejoin(message.region);
    else return;
    send({ type: "answer", requestId: message.requestId });
  });
  replicator.start();
  send({ type: "ready", port: (server.address() as AddressInfo).port });
}

main().catch((error: unknown) => {
  console.error(`replicator failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
