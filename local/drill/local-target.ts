import { DEFAULT_HEALTH_CACHE_MS } from "../../shared/env.js";
import { type StackConfig, scaledMs } from "../../shared/stack-config.js";
import type { CloudStatus } from "../cloud/cloud.js";
import { callControl, readCloudState, verifyCloud } from "../cloud/control-client.js";
import type { RegionHealth } from "../router/health-checks.js";
import { CLIENT_ID_HEADER, CLIENT_LOCATION_HEADER, TARGET_REGION_HEADER } from "../router/server.js";
import { type DrillTarget, probe as probeOnce } from "./target.js";

/** A probe waits this long at most: longer than the function's 3 s data budget. */
const PROBE_TIMEOUT_MS = 5000;
/** Each location's probe cadence at most: what the drill sends on AWS. */
const PROBE_INTERVAL_MAX_MS = 1000;

/**
 * Each location probes every half health-check interval (250 ms at time scale 0.05), and at
 * least once a second as on AWS: fine enough to time a detection that takes three intervals.
 * Not faster: every probe is a write the surviving region serves on top of its own clients'
 * on the same machine, and at a fifth of the interval a busy 2-core machine could not keep up;
 * the survivor's own health checks then timed out and the failover became an outage (a
 * measurement of the machine, not of the failover; npm run load is the load test).
 */
export function probeIntervalMs(healthCheckIntervalMs: number): number {
  return Math.min(PROBE_INTERVAL_MAX_MS, Math.max(20, Math.round(healthCheckIntervalMs / 2)));
}
/** How long the convergence check may wait for replication to catch up after a drill. */
const VERIFY_TIMEOUT_MS = 60_000;

/**
 * The longest the health checks can take to mark a failed region unhealthy: up to one interval
 * until the first check after the fault, then `failureThreshold` failing checks, each starting
 * one interval after the previous one or, when that one hung until its timeout, right after it
 * (checks never overlap). With a timeout shorter than the interval, as on AWS, this is
 * interval × threshold + timeout.
 */
export function detectionBudgetMs(check: { intervalMs: number; failureThreshold: number; timeoutMs: number }): number {
  return (
    (check.failureThreshold - 1) * Math.max(check.intervalMs, check.timeoutMs) + check.intervalMs + check.timeoutMs
  );
}

/** The region a location's clients are sent to when every region is healthy: the lowest latency. */
export function preferredRegions(config: StackConfig): Record<string, string> {
  return Object.fromEntries(
    Object.entries(config.localClientLatencyMs).map(([location, latencies]) => [
      location,
      [...config.regions].sort((a, b) => (latencies[a] ?? Infinity) - (latencies[b] ?? Infinity))[0] ?? "",
    ]),
  );
}

/**
 * The local cloud as a drill target: probes go through the router as clients in each location
 * (one resolver cache each, so stale answers live for the TTL as they would), regional reads
 * use the regional name (x-calcburst-target-region), faults go through the control endpoint.
 */
export function localTarget(config: StackConfig, stateDirectory: string): DrillTarget {
  const probe = (url: string, init: RequestInit) => probeOnce(url, init, PROBE_TIMEOUT_MS);
  const state = readCloudState(stateDirectory);
  const control = <T>(method: "GET" | "POST", route: string, body?: unknown) =>
    callControl<T>(state, method, route, body);
  const scale = state.timeScale;
  return {
    kind: "local",
    entryPoint: state.router.url,
    regions: config.regions,
    locations: Object.keys(config.localClientLatencyMs),
    preferredRegion: preferredRegions(config),
    probeIntervalMs: probeIntervalMs(state.healthCheck.intervalMs),
    budget: {
      detectionMs: detectionBudgetMs(state.healthCheck) + scaledMs(DEFAULT_HEALTH_CACHE_MS / 1000, scale),
      ttlMs: state.recordTtlMs,
      slackMs: scaledMs(config.drillRtoSlackSeconds, scale),
    },
    write: (location, id, body) =>
      probe(`${state.router.url}/v1/calculations`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "idempotency-key": id,
          [CLIENT_LOCATION_HEADER]: location,
          [CLIENT_ID_HEADER]: `drill-${location}`,
        },
        body: JSON.stringify(body),
      }),
    writeIn: (region, path, body) =>
      probe(`${state.router.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", [TARGET_REGION_HEADER]: region },
        body: JSON.stringify(body),
      }),
    read: (region, id) =>
      probe(`${state.router.url}/v1/calculations/${encodeURIComponent(id)}`, {
        headers: { [TARGET_REGION_HEADER]: region },
      }),
    inject: async (region, mode) => (await control<{ message: string }>("POST", "/fail", { region, mode })).message,
    restore: async (region) => (await control<{ message: string }>("POST", "/restore", { region })).message,
    // The router's health checks only: the full /status asks every child, too much to poll.
    health: async () => {
      const checks = await control<RegionHealth[]>("GET", "/health-checks");
      return Object.fromEntries(checks.map((one) => [one.region, one.healthy]));
    },
    verifyTable: async () => {
      const report = await verifyCloud(state, VERIFY_TIMEOUT_MS);
      const diverged = report.outcome === "diverged" ? report.divergent : [];
      return {
        scope: "table",
        compared: report.compared,
        divergentItems: diverged.length,
        divergentIds: diverged.slice(0, 50).map((one) => one.id),
        reason:
          report.outcome === "not-verified"
            ? `${report.reason}${report.divergent.length > 0 ? ` (${report.divergent.length} items differed then)` : ""}`
            : null,
      };
    },
    replicationLag: async () => {
      const { replication } = await control<CloudStatus>("GET", "/status");
      if ("error" in replication) return null;
      const worst = (values: (number | null)[]) => {
        const known = values.filter((value): value is number => value !== null);
        return known.length === 0 ? null : Math.max(...known);
      };
      return {
        p50Ms: worst(replication.pairs.map((pair) => pair.lag.p50Ms)),
        p99Ms: worst(replication.pairs.map((pair) => pair.lag.p99Ms)),
      };
    },
  };
}
