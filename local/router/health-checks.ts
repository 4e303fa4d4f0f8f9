/**
 * Route 53 health checks for the local cloud: every `intervalMs` each region's `/health` is
 * requested; a 2xx or 3xx within `timeoutMs` passes. A healthy region turns unhealthy after
 * `failureThreshold` failures in a row, and healthy again after as many passes in a row. Like a
 * new Route 53 health check, a region counts as healthy until the checks say otherwise.
 *
 * A region has at most one check in flight, and its results count in the order the checks were
 * sent. On AWS the timeout is shorter than the interval, so checks cannot overlap; a time-scaled
 * local cloud shrinks the interval but not the machine's speed, so its timeout can be longer than
 * its interval (see LocalCloud.healthCheckSettings). The next check then waits for the previous
 * one: overlapping checks would double the load on a slow region and let a late answer count
 * after a newer one.
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
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private running = false;

  constructor(private readonly options: HealthCheckOptions) {
    for (const { region } of options.regions) {
      this.health.set(region, { region, healthy: true, streak: 0, checks: 0, lastCheck: null, changedAt: null });
    }
  }

  start(): void {
    this.running = true;
    for (const region of this.options.regions) void this.checkAndReschedule(region);
  }

  stop(): void {
    this.running = false;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  /** One check, then the next one interval after this one began, or at once if this one took longer. */
  private async checkAndReschedule(region: CheckedRegion): Promise<void> {
    const startedAt = Date.now();
    await this.check(region);
    if (!this.running) return;
    const waitMs = Math.max(0, startedAt + this.options.intervalMs - Date.now());
    this.timers.set(
      region.region,
      setTimeout(() => void this.checkAndReschedule(region), waitMs),
    );
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
