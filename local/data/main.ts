/**
 * A region's data endpoint as a process of the local cloud (local/data/endpoint.ts): between
 * the region's function and its DynamoDB Local, restarted by the supervisor if it dies.
 */
import { type DataEndpointSettings, readSettings, send, stopWithSupervisor } from "../cloud/ipc.js";
import { startDataEndpoint } from "./endpoint.js";

async function main(): Promise<void> {
  const settings = readSettings<DataEndpointSettings>();
  const endpoint = await startDataEndpoint(settings);
  stopWithSupervisor(() => endpoint.close());
  send({ type: "ready", port: endpoint.port });
}

main().catch((error: unknown) => {
  console.error(`data endpoint failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
