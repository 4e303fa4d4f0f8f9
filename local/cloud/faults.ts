import type { NodeChild } from "./node-child.js";
import type { SupervisedChild } from "./supervisor.js";

/** The faults a drill can inject into one region of the local cloud (docs/LOCAL-CLOUD.md#fault-modes). */
export const FAULT_MODES = ["api", "data", "health", "isolate", "crash"] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

/** What a fault acts on: one region's processes, and the replicator between the regions. */
export interface FaultTarget {
  region: string;
  /** The region's API process, for its orders (the kill switch). */
  api: NodeChild;
  /** The same process under supervision, to stop and start it. */
  apiProcess: SupervisedChild;
  dynamodb: SupervisedChild;
  replicator: NodeChild | undefined;
  /** How long `restore` waits for a crashed DynamoDB Local to be back. */
  readyTimeoutMs: number;
}

/** Injects one fault; says what it did. */
export async function injectFault(target: FaultTarget, mode: FaultMode): Promise<string> {
  const { region } = target;
  switch (mode) {
    case "api":
      await target.apiProcess.stop();
      return `${region}'s API is stopped`;
    case "data": {
      // Frozen, not killed: the data survives, as a regional outage keeps durable writes.
      const pid = target.dynamodb.signal("SIGSTOP");
      return pid === undefined
        ? `${region}'s DynamoDB Local is not running (it is being restarted); nothing to freeze`
        : `${region}'s DynamoDB Local (pid ${pid}) is frozen`;
    }
    case "health":
      if (target.apiProcess.pid !== undefined) await target.api.request({ type: "set-kill-switch", disabled: true });
      return `${region}'s kill switch CALCBURST_REGION_DISABLED is on`;
    case "isolate":
      await target.replicator?.request({ type: "isolate", region }).catch(() => undefined);
      // Under MRSC the regions' data endpoints call each other; a restarted API reads it from its settings.
      if (target.apiProcess.pid !== undefined) await target.api.request({ type: "set-isolated", isolated: true });
      return `${region} is cut off from the router and from replication; its own API and data keep running`;
    case "crash": {
      const pid = target.dynamodb.signal("SIGKILL");
      return pid === undefined
        ? `${region}'s DynamoDB Local is not running (it is being restarted); nothing to kill`
        : `${region}'s DynamoDB Local (pid ${pid}) is killed with SIGKILL; the supervisor restarts it with the data it had on disk`;
    }
  }
}

/** Undoes every fault in `faults` (already cleared from the region); says what it did. */
export async function liftFaults(target: FaultTarget, faults: ReadonlySet<FaultMode>): Promise<string[]> {
  const restored: string[] = [];
  if (faults.has("isolate")) {
    await target.replicator?.request({ type: "rejoin", region: target.region }).catch(() => undefined);
    if (target.apiProcess.pid !== undefined) await target.api.request({ type: "set-isolated", isolated: false });
    restored.push("reconnected");
  }
  if (faults.has("data")) {
    target.dynamodb.signal("SIGCONT");
    restored.push("DynamoDB Local resumed");
  }
  if (faults.has("crash")) {
    // Nothing to undo: the supervisor restarts a crashed DynamoDB Local by itself. The restore
    // waits for it, so that a drill's restore means the region has its data back.
    await target.dynamodb.waitUntilRunning(target.readyTimeoutMs);
    const { pid, lastBack } = target.dynamodb.status();
    restored.push(
      `DynamoDB Local is back (pid ${pid}), restarted by the supervisor${lastBack === null ? "" : ` after ${(lastBack.downMs / 1000).toFixed(1)} s`}`,
    );
  }
  if (faults.has("api")) {
    await target.apiProcess.start();
    restored.push(`API started (pid ${target.apiProcess.pid})`);
  } else if (faults.has("health")) {
    await target.api.request({ type: "set-kill-switch", disabled: false });
    restored.push("kill switch off");
  }
  return restored;
}
