import type { MajoritySettings, Peer } from "../data/majority.js";

/**
 * Messages between the local cloud's supervisor and its node children (region APIs and the
 * replicator), over the IPC channel `fork` opens. The channel doubles as a watchdog: a child
 * whose supervisor dies sees it disconnect and exits.
 */

import type { LiveAlias } from "../../shared/function-versions.js";
import type { AliasRouting } from "../region/alias.js";

export interface RegionSettings {
  region: string;
  port: number;
  /** The `live` alias and the published bundles it names (local/release/versions.ts keeps them). */
  function: AliasRouting;
  tableName: string;
  /** What the function's DynamoDB client calls: the data endpoint, or DynamoDB Local when bypassed. */
  dynamodbEndpoint: string;
  /**
   * The region's data endpoint, hosted in this process: it is only ever called by this region's
   * function, so it lives and dies with it, and a write costs no extra process hop.
   */
  dataEndpoint?: { port: number; upstream: string; majority?: MajoritySettings };
  timeoutMs: number;
  concurrency: number;
  throttleRatePerSecond: number;
  throttleBurst: number;
  healthCacheMs: number;
  ttlDays: number;
  logLevel: string;
  killSwitch: boolean;
  /** Where the platform metrics (throttles) are served: the local stand-in for CloudWatch. */
  metricsPort: number;
  /** The regional Prometheus's receiver; absent when the cloud runs without monitoring. */
  remoteWriteUrl?: string;
  metricsFlushIntervalMs: number;
}

export interface ReplicaEndpoint {
  region: string;
  /** The region's DynamoDB Local: the stream is read and replicated writes applied here. */
  endpoint: string;
  tableName: string;
}

export interface ReplicatorSettings {
  port: number;
  replicas: ReplicaEndpoint[];
  checkpointFile: string;
  isolated: string[];
  pollIntervalMs: number;
  /** Benchmark only: stamp unstamped writes with their stream record's time (see LocalCloudOptions). */
  stampAtStream: boolean;
}

/** The witness of a two-region MRSC table (local/data/witness.ts), a process of its own. */
export interface WitnessSettings {
  region: string;
  port: number;
  tableName: string;
  versionsFile: string;
  isolated: boolean;
  /** The regions' data endpoints, which it catches up from after a start or a rejoin. */
  regions: Peer[];
}

/** What the supervisor asks of a child. */
export type SupervisorOrder =
  | { type: "set-kill-switch"; disabled: boolean }
  | { type: "stats" }
  /** The `live` alias moved: what Lambda's UpdateAlias does. */
  | { type: "set-alias"; routing: AliasRouting }
  | { type: "isolate"; region: string }
  | { type: "rejoin"; region: string }
  /** MRSC: the region's data endpoint (or the witness) is cut off from the other regions', or rejoins them. */
  | { type: "set-isolated"; isolated: boolean };

/** An order as sent: its id comes back with the answer, so concurrent orders cannot cross. */
export type SupervisorMessage = SupervisorOrder & { requestId: number };

export interface RegionStats {
  coldStarts: number;
  inFlight: number;
  idleInstances: number;
  killSwitch: boolean;
  alias: LiveAlias;
}

export type ChildMessage =
  | { type: "ready"; port: number }
  /** The order with this id is carried out; `stats` answers carry the figures. */
  | { type: "answer"; requestId: number; stats?: RegionStats; error?: string };

/** The environment variable that carries a child's settings as JSON. */
export const SETTINGS_VARIABLE = "CALCBURST_CHILD_SETTINGS";

export function readSettings<T>(): T {
  const raw = process.env[SETTINGS_VARIABLE];
  if (raw === undefined) throw new Error(`${SETTINGS_VARIABLE} is not set: this process is started by the local cloud`);
  return JSON.parse(raw) as T;
}

/**
 * A child stops when its supervisor asks (SIGTERM) or disappears (the IPC channel closes).
 * Ctrl-C reaches the whole process group; the supervisor decides the order, so SIGINT is ignored.
 */
export function stopWithSupervisor(stop: () => Promise<void>): void {
  let stopping = false;
  const exit = () => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(0), 2000);
    force.unref();
    void stop().finally(() => process.exit(0));
  };
  process.on("SIGINT", () => undefined);
  process.once("SIGTERM", exit);
  process.once("disconnect", exit);
}

export function send(message: ChildMessage): void {
  process.send?.(message);
}
