/**
 * The witness of a two-region MRSC table as a process of the local cloud: the peer protocol's
 * server (witness.ts) with its versions on disk, taking the supervisor's isolate orders.
 */

import { readSettings, type SupervisorMessage, send, stopWithSupervisor, type WitnessSettings } from "../cloud/ipc.js";
import { startWitness } from "./witness.js";

async function main(): Promise<void> {
  const settings = readSettings<WitnessSettings>();
  const witness = await startWitness(settings);
  console.log(
    `${settings.region} witness on ${witness.url}: ${witness.items} item version${witness.items === 1 ? "" : "s"} from ${settings.versionsFile}${settings.isolated ? ", cut off" : ""}`,
  );
  stopWithSupervisor(() => witness.close());
  process.on("message", (message: SupervisorMessage) => {
    if (message.type === "set-isolated") {
      witness.setIsolated(message.isolated);
      console.log(`${settings.region} witness ${message.isolated ? "is cut off" : "rejoins the regions"}`);
      send({ type: "answer", requestId: message.requestId });
    } else {
      send({ type: "answer", requestId: message.requestId, error: `the witness does not take ${message.type} orders` });
    }
  });
  send({ type: "ready", port: witness.port });
}

main().catch((error: unknown) => {
  console.error(`witness failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
