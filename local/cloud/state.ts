import type { MonitoringState } from "../monitoring/monitoring.js";
import type { ReplicationStatus } from "../replicator/replicator.js";
import type { RegionHealth } from "../router/health-checks.js";
import type { FaultMode } from "./faults.js";
import type { RegionStats } from "./ipc.js";
import type { ChildStatus } from "./supervisor.js";

/**
 * What a running local cloud tells the outside: state.json (CloudState), rewritten whenever a
 * process or a fault changes, and the control endpoint's /status (CloudStatus).
 */

export interface CloudState {
  stack: string;
  timeScale: number;
  startedAt: string;
  supervisor: { pid: number };
  router: { url: string };
  /**
   * The control endpoint. A fail or restore order can wait for a process to come back (a crashed
   * DynamoDB Local, a stopped API), which takes up to `orderTimeoutMs`: the cloud's ready timeout.
   */
  control: { url: string; orderTimeoutMs: number };
  healthCheck: { intervalMs: number; failureThreshold: number; timeoutMs: number };
  recordTtlMs: number;
  regions: Record<
    string,
    {
      api: { url: string; pid: number | null };
      /** Its pid is null while the supervisor restarts it. Its data is kept in `dataDirectory`. */
      dynamodb: { endpoint: string; pid: number | null; dataDirectory: string };
      /**
       * What the region's function calls: the data endpoint in front of DynamoDB Local, hosted
       * in the region's API process (so its pid is the API's).
       */
      data: { endpoint: string; pid: number | null };
      faults: FaultMode[];
      faultSince: string | null;
    }
  >;
  replicator: { url: string; pid: number | null };
  /**
   * A two-region MRSC stack's witness (tableWitnessRegion): a lease-holder with no table, in a
   * process of its own; absent on every other stack. Not a region: no API, no /health, not routed.
   */
  witness?: {
    region: string;
    url: string;
    pid: number | null;
    /** The latest version of each item it holds, kept on disk. */
    versionsFile: string;
    faults: FaultMode[];
    faultSince: string | null;
  };
  /** The Prometheus servers and Alertmanager, or why there are none. */
  monitoring: (MonitoringState & { pids: number[] }) | { disabled: string };
  /** Every child process as the supervisor sees it: running, being restarted, or stopped by a fault. */
  processes: ChildStatus[];
  /** Whether the tables started empty or with what an earlier run left in the state folder. */
  data: { kept: boolean; directory: string };
  logs: string;
}

export interface CloudStatus {
  state: CloudState;
  health: RegionHealth[];
  routingTable: Record<string, string>;
  resolverCache: Record<string, number>;
  routedRequests: Record<string, number>;
  functions: Record<string, RegionStats | null>;
  /** The replicator's own status, or why it could not be read. */
  replication: ReplicationStatus | { error: string };
  /** Alerts Alertmanager has notified as firing. */
  alerts: { name: string; region: string | null; summary: string }[];
}
