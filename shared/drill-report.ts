import * as z from "zod/mini";

/**
 * The JSON report of a failover drill (`npm run drill -- … --json <file>`). Times are ISO 8601;
 * durations are ms measured from the injection. A reader can recompute every verdict from it.
 */

export const DRILL_MODES = ["api", "data", "health", "isolate"] as const;
export type DrillMode = (typeof DRILL_MODES)[number];

const isoTime = z
  .string()
  .check(z.regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, { error: "an ISO 8601 UTC time" }));
const milliseconds = z.number().check(z.gte(0));

export const probeSchema = z.object({
  /** ms since the drill started, when the request was sent and when it ended. */
  sentMs: milliseconds,
  endedMs: milliseconds,
  location: z.string(),
  /** HTTP status, or 0 when no answer came (connection refused, timeout). */
  status: z.int(),
  /** The region that answered, from x-calcburst-region; null when none did. */
  region: z.nullable(z.string()),
});
export type Probe = z.infer<typeof probeSchema>;

export const schema = z.object({
  schemaVersion: z.literal(1),
  target: z.enum(["local", "aws"]),
  stack: z.string(),
  region: z.string(),
  mode: z.enum(DRILL_MODES),
  entryPoint: z.string(),
  locations: z.array(z.string()),
  /** Every region of the stack and which one each location prefers when all are healthy. */
  preferredRegion: z.record(z.string(), z.string()),
  times: z.object({
    startedAt: isoTime,
    injectedAt: isoTime,
    detectedAt: z.nullable(isoTime),
    restoredAt: isoTime,
    finishedAt: isoTime,
  }),
  budget: z.object({
    /** healthCheckIntervalSeconds × healthCheckFailureThreshold, plus the check's timeout and the /health cache. */
    detectionMs: milliseconds,
    /** recordTtlSeconds: how long a client keeps a stale answer. */
    ttlMs: milliseconds,
    /** drillRtoSlackSeconds from the stack config. */
    slackMs: milliseconds,
    rtoMs: milliseconds,
  }),
  measured: z.object({
    detectionMs: z.nullable(milliseconds),
    /** Injection to the sending of the last client request that failed before the restore. */
    rtoLastErrorMs: z.nullable(milliseconds),
    /** Injection to the moment from which every location is served by a healthy region. */
    rtoAllServedMs: z.nullable(milliseconds),
    /** Restore to every location served by its preferred region again. */
    returnMs: z.nullable(milliseconds),
    requests: z.int(),
    failedRequests: z.int(),
    acknowledgedWrites: z.int(),
    /** Acknowledged writes not readable in a surviving region during the outage. */
    rpoExposure: z.int(),
    rpoExposureIds: z.array(z.string()),
    /** Acknowledged writes missing from some region once restored and settled. Must be 0. */
    lostAcknowledgedWrites: z.int(),
    lostIds: z.array(z.string()),
    /** Writes acknowledged by other regions during the outage, all found in the restored region. */
    outageWritesReplicatedBack: z.boolean(),
    replicationLag: z.nullable(z.object({ p50Ms: z.nullable(z.number()), p99Ms: z.nullable(z.number()) })),
  }),
  passed: z.boolean(),
  failures: z.array(z.string()),
  probes: z.array(probeSchema),
  /** Where the SVG timeline was written. */
  timeline: z.nullable(z.string()),
});
export type DrillReport = z.infer<typeof schema>;
