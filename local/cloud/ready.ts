import { machineLoad, ReadinessTimeoutError } from "../process/readiness.js";
import type { RegionHealth } from "../router/health-checks.js";
import { TARGET_REGION_HEADER } from "../router/server.js";

export interface RegionsReadyOptions {
  routerUrl: string;
  regions: string[];
  /** The router's health checks as they are now. */
  checks: () => RegionHealth[];
  /** How long one /health request may take. */
  requestTimeoutMs: number;
  timeoutMs: number;
  progress: (line: string) => void;
}

/**
 * The cloud is ready when every region answers `/health` 200 through the router, by its regional
 * name, and the router's own checks pass: then a client can be served wherever it is. On timeout
 * the error says what each region that is not ready last answered.
 */
export async function waitForRegions(options: RegionsReadyOptions): Promise<void> {
  const startedAt = Date.now();
  const pending = new Map(options.regions.map((region) => [region, "not asked yet"]));
  while (pending.size > 0) {
    for (const region of [...pending.keys()]) {
      const response = await fetch(`${options.routerUrl}/health`, {
        headers: { [TARGET_REGION_HEADER]: region },
        signal: AbortSignal.timeout(options.requestTimeoutMs),
      }).catch((error: Error) => error);
      if (response instanceof Error) {
        pending.set(region, `no answer (${response.name === "TimeoutError" ? "timed out" : response.message})`);
        continue;
      }
      await response.arrayBuffer();
      const check = options.checks().find((health) => health.region === region);
      if (response.status === 200 && check?.healthy === true) {
        pending.delete(region);
        options.progress(`  ${region}: /health 200 through the router`);
      } else {
        pending.set(
          region,
          `/health ${response.status}, the router's check: ${check?.lastCheck?.detail ?? "none yet"}`,
        );
      }
    }
    if (pending.size === 0) return;
    if (Date.now() - startedAt > options.timeoutMs) {
      const waiting = [...pending].map(([region, last]) => `${region} (last: ${last})`).join(", ");
      throw new ReadinessTimeoutError(
        `not ready after ${Math.round((Date.now() - startedAt) / 1000)} s: ${waiting} (${machineLoad()})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
