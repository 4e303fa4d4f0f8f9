/**
 * Route 53 latency routing as a client sees it: the answer is the lowest-latency region whose
 * health check passes (or, when none passes, the lowest-latency region at all: Route 53 then
 * treats every record as healthy), and the client's resolver keeps that answer for the record's
 * TTL. That cache is why clients keep reaching a failed region after detection.
 */

export type ResolutionSource =
  /** A fresh answer: the nearest healthy region. */
  | "latency"
  /** The resolver's cached answer, within the TTL. */
  | "cached"
  /** No region passes its checks; Route 53 answers as if all did. */
  | "fail-open";

export interface Resolution {
  region: string;
  source: ResolutionSource;
  /** When the cached answer expires (ms since the epoch). */
  expiresAt: number;
}

export interface ResolverOptions {
  regions: string[];
  latencyMs: Record<string, Record<string, number>>;
  ttlMs: number;
  isHealthy: (region: string) => boolean;
  nowMs?: () => number;
}

/** Caches beyond this many clients are dropped oldest first; a load test can have many ids. */
const MAX_CACHED_CLIENTS = 100_000;

export class LatencyResolver {
  private readonly cache = new Map<string, { region: string; expiresAt: number }>();
  private readonly nowMs: () => number;
  /** Per location, the regions from nearest to farthest. */
  private readonly byDistance: Map<string, string[]>;

  constructor(private readonly options: ResolverOptions) {
    this.nowMs = options.nowMs ?? Date.now;
    this.byDistance = new Map(
      Object.entries(options.latencyMs).map(([location, latencies]) => [
        location,
        [...options.regions].sort((a, b) => (latencies[a] ?? Infinity) - (latencies[b] ?? Infinity)),
      ]),
    );
  }

  get locations(): string[] {
    return [...this.byDistance.keys()];
  }

  hasLocation(location: string): boolean {
    return this.byDistance.has(location);
  }

  /** What a fresh DNS query from `location` returns now. */
  answer(location: string): { region: string; source: ResolutionSource } {
    const ranked = this.byDistance.get(location) ?? this.options.regions;
    const healthy = ranked.find((region) => this.options.isHealthy(region));
    if (healthy !== undefined) return { region: healthy, source: "latency" };
    return { region: ranked[0] ?? "", source: "fail-open" };
  }

  resolve(clientKey: string, location: string): Resolution {
    const now = this.nowMs();
    const cached = this.cache.get(clientKey);
    if (cached !== undefined && cached.expiresAt > now) return { ...cached, source: "cached" };
    const { region, source } = this.answer(location);
    const expiresAt = now + this.options.ttlMs;
    this.cache.delete(clientKey);
    if (this.cache.size >= MAX_CACHED_CLIENTS) {
      const oldest = this.cache.keys().next();
      if (oldest.done !== true) this.cache.delete(oldest.value);
    }
    this.cache.set(clientKey, { region, expiresAt });
    return { region, source, expiresAt };
  }

  /** Each location's fresh answer, for the status report. */
  routingTable(): Record<string, string> {
    return Object.fromEntries(this.locations.map((location) => [location, this.answer(location).region]));
  }

  /** How many clients' resolvers still hold each region. */
  cachedClients(): Record<string, number> {
    const now = this.nowMs();
    const counts: Record<string, number> = {};
    for (const { region, expiresAt } of this.cache.values()) {
      if (expiresAt > now) counts[region] = (counts[region] ?? 0) + 1;
    }
    return counts;
  }
}
