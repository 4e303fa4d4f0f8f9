import { readdirSync } from "node:fs";
import path from "node:path";
import { PROJECT_ROOT } from "../../shared/paths.js";
import type { StackConfig } from "../../shared/stack-config.js";

export const LOAD_DIRECTORY = path.join(PROJECT_ROOT, "load");

/** Written by npm run bench:capacity: the write rate this machine sustains through the router. */
export const LOCAL_CAPACITY_FILE = path.join(LOAD_DIRECTORY, "local-capacity.json");

/** The scenarios under load/scenarios, by name. */
export function scenarios(): string[] {
  return readdirSync(path.join(LOAD_DIRECTORY, "scenarios"))
    .filter((name) => name.endsWith(".yml"))
    .map((name) => name.slice(0, -4))
    .sort();
}

/**
 * The SLO as artillery checks: p99 under the latency objective, and failed users (a 5xx, a
 * network error or any unexpected status; the expected 4xx are not failures) within the error
 * budget. A run that drills a failover is held to one failover's share of errors instead, and
 * not to the latency objective: cold starts and retries in the surviving region are the point.
 */
export function ensureFromSlo(config: StackConfig, failover?: { allowedFailedShare: number }) {
  const allowed = failover?.allowedFailedShare ?? 1 - config.availabilityObjective;
  return {
    thresholds: failover === undefined ? [{ "http.response_time.p99": config.latencyObjectiveMs }] : [],
    conditions: [{ expression: `vusers.failed <= vusers.created * ${Number(allowed.toPrecision(6))}`, strict: true }],
  };
}
