import { DEFAULT_HEALTH_CACHE_MS } from "../shared/env.js";
import type { HealthResponse } from "../shared/responses.js";
import { describeError } from "./commons/errors.js";
import type { CalculationStore } from "./store.js";

/** Route 53 wants an answer within 2 s of connecting; leave room for the rest of the request. */
export const DATA_CHECK_TIMEOUT_MS = 1000;

type DataCheck = HealthResponse["checks"]["data"];

export interface HealthCheckOptions {
  store: CalculationStore;
  isRegionDisabled: () => boolean;
  nowMs?: () => number;
  cacheMs?: number;
  timeoutMs?: number;
}

export type HealthReport = Omit<HealthResponse, "region" | "durationMs">;

/**
 * The deep health check: the kill switch, then a read of the sentinel item from this region's
 * replica. The data result is cached for at most `cacheMs`, so Route 53's many checkers (and
 * a flood of /health calls) cost one read per instance per window.
 */
export function createHealthCheck(options: HealthCheckOptions): () => Promise<HealthReport> {
  const nowMs = options.nowMs ?? Date.now;
  const cacheMs = options.cacheMs ?? DEFAULT_HEALTH_CACHE_MS;
  const timeoutMs = options.timeoutMs ?? DATA_CHECK_TIMEOUT_MS;
  let cached: { at: number; check: Promise<DataCheck> } | undefined;

  async function checkData(): Promise<DataCheck> {
    const started = nowMs();
    const checkedAt = new Date(started).toISOString();
    try {
      const { present } = await options.store.readSentinel(AbortSignal.timeout(timeoutMs));
      return {
        status: "pass",
        detail: present ? "sentinel item read" : "table readable; sentinel item absent",
        latencyMs: nowMs() - started,
        checkedAt,
      };
    } catch (error) {
      return { status: "fail", detail: describeError(error), latencyMs: nowMs() - started, checkedAt };
    }
  }

  return async () => {
    const now = nowMs();
    if (cached === undefined || now - cached.at >= cacheMs) cached = { at: now, check: checkData() };
    const data = await cached.check;
    const disabled = options.isRegionDisabled();
    const killSwitch = disabled
      ? { status: "fail" as const, detail: "kill switch CALCBURST_REGION_DISABLED=true" }
      : { status: "pass" as const };
    const reasons: string[] = [];
    if (disabled) reasons.push("the region's kill switch is on (CALCBURST_REGION_DISABLED=true)");
    if (data.status === "fail") reasons.push(`the region's DynamoDB replica cannot be read (${data.detail})`);
    return { status: reasons.length === 0 ? "pass" : "fail", checks: { killSwitch, data }, reasons };
  };
}
