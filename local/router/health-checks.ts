/**
 * Route 53 health checks for the local cloud: every `intervalMs` each region's `/health` is
 * requested; a 2xx or 3xx within `timeoutMs` passes. A healthy region turns unhealthy after
 * `failureThreshold` failures in a row, and healthy again after as many passes in a row. Like a
 * new Route 53 health check, a region counts as healthy until the checks say otherwise.
 */

export interface CheckedRegion {
  region: string;
  /** The region's own API (what `<region>.api.<domain>` points at on AWS). */
  url: () => string;
}

export interface HealthCheckOptions {
  regions: CheckedRegion[];
  intervalMs: number;
  failureThreshold: number;
  timeoutMs: number;
  /** False when the network between the checkers and the region is cut (isolate). */
  reachable: (region: string) => boolean;
  onChange?: (region: string, healthy: boolean, detail: string) => void;
}

export interface RegionHealth {
  region: string;
  healthy: boolean;
  /** Passes (while unhealthy) or failures (while healthy) in a row towards a change. */
  streak: number;
  checks: number;
  lastCheck: { at: string; passed: boolean; detail: string } | null;
  /** When the status last changed. */
  changedAt: string | null;
}

export class HealthChecks {
  private readonly health = new Map<string, RegionHealth>();
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(private readonly options: HealthCheckOptions) {
    for (const { region } of options.regions) {
      this.health.set(region, { region, healthy: true, streak: 0, checks: 0, lastCheck: null, changedAt: null });
    }
  }

  start(): void {
    for (const region of this.options.regions) {
      void this.check(region);
      const timer = setInterval(() => void this.check(region), this.options.intervalMs);
      this.timers.push(timer);
    }
  }

  stop(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers.length = 0;
  }

  isHealthy(region: string): boolean {
    return this.health.get(region)?.healthy ?? false;
  }

  status(): RegionHealth[] {
    return [...this.health.values()].map((health) => ({ ...health }));
  }

  private async probe(region: CheckedRegion): Promise<{ passed: boolean; detail: string }> {
    if (!this.options.reachable(region.region)) return { passed: false, detail: "unreachable: the region is isolated" };
    try {
      const response = await fetch(`${region.url()}/health`, { signal: AbortSignal.timeout(this.options.timeoutMs) });
      await response.arrayBuffer();
      return { passed: response.status >= 200 && response.status < 400, detail: `HTTP ${response.status}` };
    } catch (error) {
      const name = error instanceof Error ? error.name : "";
      if (name === "TimeoutError") return { passed: false, detail: `no answer within ${this.options.timeoutMs} ms` };
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
      return { passed: false, detail: `connection failed: ${cause}` };
    }
  }

  private async check(region: CheckedRegion): Promise<void> {
    const { passed, detail } = await this.probe(region);
    const health = this.health.get(region.region);
    if (health === undefined) return;
    health.checks += 1;
    health.lastCheck = { at: new Date().toISOString(), passed, detail };
    if (passed === health.healthy) {
      health.streak = 0;
      return;
    }
    health.streak += 1;
    if (health.streak >= this.options.failureThreshold) {
      health.healthy = passed;
      health.streak = 0;
      health.changedAt = health.lastCheck.at;
      this.options.onChange?.(region.region, passed, detail);
    }
  }
}
