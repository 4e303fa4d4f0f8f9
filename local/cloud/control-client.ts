import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { PEER_PATH } from "../data/majority.js";
import { type ConvergenceReport, verifyConvergence } from "../replicator/convergence.js";
import type { ReplicationStatus } from "../replicator/replicator.js";
import { type CloudState, DEFAULT_READY_TIMEOUT_MS, TABLE_NAME } from "./cloud.js";

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

/** How long a question to the control endpoint (status, health checks, versions) may take. */
export const CONTROL_QUESTION_TIMEOUT_MS = 15_000;
/** What an order's answer may take beyond the restart it waits for. */
const ORDER_GRACE_MS = 15_000;

/**
 * How long a call may take: a fail or restore order waits for a process to come back (a restore
 * after the crash fault waits for the restarted DynamoDB Local), which the cloud allows its ready
 * timeout for; on a busy machine that took 42 s, far beyond a question's 15 s.
 */
export function controlTimeoutMs(state: CloudState, route: string): number {
  const order = route === "/fail" || route === "/restore";
  return order
    ? (state.control.orderTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS) + ORDER_GRACE_MS
    : CONTROL_QUESTION_TIMEOUT_MS;
}

/** One call to the cloud's control endpoint (local/cloud/control.ts); a refusal's detail becomes the error. */
export async function callControl<T>(
  state: CloudState,
  method: "GET" | "POST",
  route: string,
  body?: unknown,
  timeoutMs = controlTimeoutMs(state, route),
): Promise<T> {
  const response = await fetch(`${state.control.url}${route}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body !== undefined && { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(timeoutMs),
  }).catch((error: Error) => {
    const why =
      error.name === "TimeoutError"
        ? `no answer within ${Math.round(timeoutMs / 1000)} s to ${method} ${route}`
        : error.message;
    throw new ControlError(
      `the local cloud (pid ${state.supervisor.pid}) does not answer on ${state.control.url}: ${why}. If it crashed, start it again with npm start`,
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
    catchingUp: () => regionsCatchingUp(state),
    timeoutMs,
    ...(progress !== undefined && { progress }),
  });
}

/**
 * The MRSC regions still copying versions they missed from their peers (local/data/majority.ts):
 * the stream replicator stands down under MRSC, so its status alone would call them caught up.
 * A region whose data endpoint does not answer is counted as catching up; an MREC endpoint
 * answers 404 and is not.
 */
async function regionsCatchingUp(state: CloudState): Promise<string[]> {
  const answers = await Promise.all(
    Object.entries(state.regions).map(async ([region, { data }]) => {
      try {
        const response = await fetch(`${data.endpoint}${PEER_PATH}status`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ op: "status" }),
          signal: AbortSignal.timeout(5000),
        });
        if (response.status === 404) {
          await response.body?.cancel();
          return undefined;
        }
        const { behind } = (await response.json()) as { behind?: boolean };
        return behind === false ? undefined : `${region} catching up with its peers`;
      } catch {
        return `${region}'s data endpoint does not answer`;
      }
    }),
  );
  return answers.filter((answer): answer is string => answer !== undefined);
}
