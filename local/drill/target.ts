import { REGION_HEADER } from "../../shared/api.js";
import type { DivergenceCheck, FailoverMode } from "../../shared/drill-report.js";

/** One answer to a probe: the HTTP status (0 when none came), the region that gave it, its JSON body. */
export interface ProbeAnswer {
  status: number;
  region: string | null;
  /** The parsed JSON body, when there was one. */
  body?: unknown;
}

/**
 * What a drill needs of the system under test. The local cloud and an AWS stack each provide
 * one; the drill itself (run.ts) does not know which it drives.
 */
export interface DrillTarget {
  kind: "local" | "aws";
  /** The global entry point the probes go through: the router, or https://api.<domain>. */
  entryPoint: string;
  regions: string[];
  /** Where probe traffic comes from; each location is one client with its own resolver cache. */
  locations: string[];
  /** The region each location is routed to when every region is healthy. */
  preferredRegion: Record<string, string>;
  /** How often each location sends a probe. */
  probeIntervalMs: number;
  /** The RTO budget's parts, from the stack config (and, locally, its time scale). */
  budget: { detectionMs: number; ttlMs: number; slackMs: number };
  /** A write through the global entry point, as a client in `location`. */
  write(location: string, id: string, body: unknown): Promise<ProbeAnswer>;
  /** A POST to one region only, by its regional name (`/v1/calculations` or its batch route). */
  writeIn(region: string, path: string, body: unknown): Promise<ProbeAnswer>;
  /** A read of `id` from one region only, by its regional name. */
  read(region: string, id: string): Promise<ProbeAnswer>;
  inject(region: string, mode: FailoverMode): Promise<string>;
  restore(region: string, mode: FailoverMode): Promise<string>;
  /** Each region's health as the routing layer's health checks see it now. */
  health(): Promise<Record<string, boolean>>;
  /** Anything to look up before the drill starts (on AWS: the health checks, the serving region). */
  prepare?(): Promise<void>;
  /** Replication lag as the platform reports it, when it does. */
  replicationLag(): Promise<{ p50Ms: number | null; p99Ms: number | null } | null>;
  /**
   * Every item of every region compared once replication has caught up, where the target can
   * (the local cloud). Without it the drill compares what each region answers for its own ids.
   */
  verifyTable?(): Promise<DivergenceCheck>;
}

/** One probe request: its status and serving region, or status 0 when no answer came in time. */
export async function probe(
  url: string,
  init: RequestInit,
  timeoutMs: number,
  send: typeof fetch = fetch,
): Promise<ProbeAnswer> {
  try {
    const response = await send(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    let body: unknown;
    try {
      body = text === "" ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: response.status, region: response.headers.get(REGION_HEADER), body };
  } catch {
    return { status: 0, region: null };
  }
}
