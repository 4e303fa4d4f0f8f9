import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { type ConvergenceReport, verifyConvergence } from "../replicator/convergence.js";
import type { ReplicationStatus } from "../replicator/replicator.js";
import { type CloudState, TABLE_NAME } from "./cloud.js";

/** The local cloud is not running, does not answer, or refused an order: a user's matter, not a bug. */
export class ControlError extends Error {}

/** The running cloud's state file, or a ControlError saying how to start one. */
export function readCloudState(stateDirectory: string): CloudState {
  const file = path.join(stateDirectory, "state.json");
  if (!existsSync(file)) {
    throw new ControlError(
      `the local cloud is not running (no ${path.relative(process.cwd(), file) || file}): start it with npm start`,
    );
  }
  return JSON.parse(readFileSync(file, "utf8")) as CloudState;
}

/** How long a control call may take when it starts no process. */
const CONTROL_TIMEOUT_MS = 15_000;

/**
 * Orders that start a process or wait for one (restoring a stopped API, waiting for a crashed
 * DynamoDB Local to be back): they answer once it is ready, which on a busy machine takes up to
 * the cloud's readiness timeout. Cutting them off sooner left a drill without its restore's
 * answer while the restore went on (a restarted API took over 15 s at a load average of 17).
 */
const ORDERS_THAT_WAIT_FOR_PROCESSES = new Set(["/fail", "/restore"]);

/** One call to the cloud's control endpoint (local/cloud/control.ts); a refusal's detail becomes the error. */
export async function callControl<T>(
  state: CloudState,
  method: "GET" | "POST",
  route: string,
  body?: unknown,
  timeoutMs = ORDERS_THAT_WAIT_FOR_PROCESSES.has(route)
    ? (state.readyTimeoutMs ?? 0) + CONTROL_TIMEOUT_MS
    : CONTROL_TIMEOUT_MS,
): Promise<T> {
  const response = await fetch(`${state.control.url}${route}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body !== undefined && { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(timeoutMs),
  }).catch((error: Error) => {
    throw new ControlError(
      `the local cloud (pid ${state.supervisor.pid}) does not answer on ${state.control.url}: ${error.message}. If it crashed, start it again with npm start`,
    );
  });
  const answer = (await response.json()) as T & { detail?: string };
  if (!response.ok) throw new ControlError(answer.detail ?? `HTTP ${response.status}`);
  return answer;
}

/** The convergence check (local/replicator/convergence.ts) against the running cloud's replicas. */
export function verifyCloud(
  state: CloudState,
  timeoutMs: number,
  progress?: (line: string) => void,
): Promise<ConvergenceReport> {
  return verifyConvergence({
    replicas: Object.entries(state.regions).map(([region, { dynamodb }]) => ({
      region,
      endpoint: dynamodb.endpoint,
      tableName: TABLE_NAME,
    })),
    replicationStatus: async () => {
      const response = await fetch(`${state.replicator.url}/status`, { signal: AbortSignal.timeout(5000) });
      if (!response.ok) throw new ControlError(`the replicator answered ${response.status} on ${state.replicator.url}`);
      return (await response.json()) as ReplicationStatus;
    },
    timeoutMs,
    ...(progress !== undefined && { progress }),
  });
}
