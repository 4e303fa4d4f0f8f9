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

/** The counters and response-time summary of an artillery JSON report that the checks read. */
export interface LoadMeasurements {
  counters: Record<string, number>;
  responseTime?: { p99: number };
}

/**
 * The same checks as `ensureFromSlo`, in words, with the values measured: artillery prints them
 * as expressions (`ok: vusers.failed <= vusers.created * 0.0005`), which say what was checked
 * but not what was found.
 */
export function checksInWords(
  config: StackConfig,
  measured: LoadMeasurements,
  failover?: { allowedFailedShare: number },
): { line: string; held: boolean }[] {
  const checks: { line: string; held: boolean }[] = [];
  if (failover === undefined) {
    const p99 = measured.responseTime?.p99;
    const held = p99 !== undefined && p99 < config.latencyObjectiveMs;
    checks.push({
      held,
      line:
        p99 === undefined
          ? `p99 response time: none measured (no answers), the latency objective is under ${config.latencyObjectiveMs} ms: FAILED`
          : `p99 response time ${p99} ms, ${held ? "under" : "not under"} the ${config.latencyObjectiveMs} ms latency objective: ${held ? "held" : "FAILED"}`,
    });
  }
  const allowed = failover?.allowedFailedShare ?? 1 - config.availabilityObjective;
  const created = measured.counters["vusers.created"] ?? 0;
  const failed = measured.counters["vusers.failed"] ?? 0;
  const held = failed <= created * allowed;
  const share = created === 0 ? "no users" : `${Number(((failed / created) * 100).toPrecision(3))}%`;
  const budget = `${Number((allowed * 100).toPrecision(6))}%`;
  checks.push({
    held,
    line: `failed users ${failed} of ${created} (${share}), ${held ? "within" : "over"} ${
      failover === undefined ? `the ${budget} error budget` : `one failover's ${budget} allowance`
    }: ${held ? "held" : "FAILED"}`,
  });
  return checks;
}
