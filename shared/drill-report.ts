import * as z from "zod/mini";
import { schema as releaseReportSchema } from "./release-report.js";

/**
 * The JSON report of a drill (`npm run drill -- … --json <file>`): a failover drill (a fault in
 * one region) or the conflict drill (racing writers on shared ids). Times are ISO 8601; a
 * failover's durations are ms measured from the injection. A reader can recompute every
 * verdict from it.
 */

/** The drills that inject a fault into one region and watch traffic move. */
export const FAILOVER_MODES = ["api", "data", "health", "isolate", "crash"] as const;
export type FailoverMode = (typeof FAILOVER_MODES)[number];
/**
 * Faults the region recovers from by itself (`crash`: the supervisor restarts the killed DynamoDB
 * Local with its data), so a success the region itself serves after the injection is service
 * restored, not a client still sent to a failed region.
 */
export const SELF_HEALING_MODES: readonly FailoverMode[] = ["crash"];
export const DRILL_MODES = [...FAILOVER_MODES, "conflict", "bad-release"] as const;
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

/** Items that differ between regions once replication has settled: must be 0. */
export const divergenceSchema = z.object({
  /**
   * `table`: every item of every region, compared attribute by attribute once the replicator has
   * caught up (the local cloud); `drill ids`: the ids the drill wrote, read from every region.
   */
  scope: z.enum(["table", "drill ids"]),
  compared: z.int(),
  divergentItems: z.int(),
  divergentIds: z.array(z.string()),
  /** Why the check could not conclude, when it could not (then the drill fails). */
  reason: z.nullable(z.string()),
});
export type DivergenceCheck = z.infer<typeof divergenceSchema>;

const common = {
  schemaVersion: z.literal(2),
  target: z.enum(["local", "aws"]),
  stack: z.string(),
  entryPoint: z.string(),
  passed: z.boolean(),
  failures: z.array(z.string()),
  probes: z.array(probeSchema),
  /** Where the SVG timeline was written. */
  timeline: z.nullable(z.string()),
  /**
   * Every region the routing layer's health checks marked unhealthy during the drill, with when
   * (ms from the start; `toMs` null while still unhealthy at the end). Absent in older reports.
   */
  unhealthy: z.optional(
    z.array(z.object({ region: z.string(), fromMs: milliseconds, toMs: z.nullable(milliseconds) })),
  ),
  /** The machine's load average when the drill ended, when it was above its core count. */
  overloaded: z.optional(z.string()),
};

export const failoverSchema = z.object({
  ...common,
  kind: z.literal("failover"),
  region: z.string(),
  mode: z.enum(FAILOVER_MODES),
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
    /** Null when the health checks never marked the region unhealthy (a crash healed before the threshold). */
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
    /** Acknowledged writes missing from some region, or holding another result, once restored and settled. Must be 0. */
    lostAcknowledgedWrites: z.int(),
    lostIds: z.array(z.string()),
    /** Writes acknowledged by other regions during the outage, all found in the restored region. */
    outageWritesReplicatedBack: z.boolean(),
    replicationLag: z.nullable(z.object({ p50Ms: z.nullable(z.number()), p99Ms: z.nullable(z.number()) })),
    divergence: divergenceSchema,
  }),
});
export type FailoverReport = z.infer<typeof failoverSchema>;

/** One kind of racing pair: where the two writers send, and how (single request or batch). */
export const pairingSchema = z.object({
  scope: z.enum(["same-region", "cross-region"]),
  /** The region of each writer (the same one twice for a same-region pair). */
  regions: z.tuple([z.string(), z.string()]),
  /** `single` is POST /v1/calculations, `batch` the same item inside POST /v1/calculations/batch. */
  kinds: z.tuple([z.enum(["single", "batch"]), z.enum(["single", "batch"])]),
  pairs: z.int(),
  /** Pairs in which both writers were acknowledged (200/201). */
  bothAcknowledged: z.int(),
  /** Pairs in which neither was, even after retrying a 503 as the API asks. */
  neitherAcknowledged: z.int(),
  /** Acknowledged writes whose body is not what every region holds once settled. */
  acknowledgedSuperseded: z.int(),
});
export type PairingResult = z.infer<typeof pairingSchema>;

export const conflictSchema = z.object({
  ...common,
  kind: z.literal("conflict"),
  mode: z.literal("conflict"),
  regions: z.array(z.string()),
  times: z.object({
    startedAt: isoTime,
    /** The last racing request has its answer. */
    racesEndedAt: isoTime,
    /** Replication has caught up and every region was read back. */
    settledAt: isoTime,
    finishedAt: isoTime,
  }),
  pairings: z.array(pairingSchema),
  measured: z.object({
    pairs: z.int(),
    requests: z.int(),
    acknowledgedWrites: z.int(),
    /** Same-region acknowledged writes replaced by another body: the 409 promise. Must be 0. */
    sameRegionAcknowledgedLost: z.int(),
    sameRegionLostIds: z.array(z.string()),
    /**
     * Cross-region acknowledged writes superseded by the other region's: MREC's exposure,
     * expected above 0 (both regions may acknowledge one key); under MRSC it would be 0.
     */
    crossRegionAcknowledgedSuperseded: z.int(),
    crossRegionBothAcknowledged: z.int(),
    /** Ids some region would not answer for (neither 200 nor 404) until the read-back gave up: not counted above. */
    unreadableIds: z.array(z.string()),
    divergence: divergenceSchema,
  }),
});
export type ConflictReport = z.infer<typeof conflictSchema>;

export const badReleaseSchema = z.object({
  ...common,
  kind: z.literal("bad-release"),
  mode: z.literal("bad-release"),
  regions: z.array(z.string()),
  /** The regions of the first release wave: the only ones the faulty version may reach. */
  firstWave: z.array(z.string()),
  /** The share of requests the faulty version answers 500 (built into it). */
  failureShare: z.number().check(z.gte(0), z.lte(1)),
  times: z.object({
    startedAt: isoTime,
    releaseStartedAt: isoTime,
    /** The first moment clients could reach the faulty version; null if they never could. */
    firstExposureAt: z.nullable(isoTime),
    /** Every region back on its previous version; null if the release never rolled back. */
    rolledBackAt: z.nullable(isoTime),
    finishedAt: isoTime,
  }),
  budget: z.object({
    /** The canary and the bake, as the cloud's time scale shrinks them. */
    canaryMs: milliseconds,
    bakeMs: milliseconds,
    /** How often the release reads the burn rates. */
    pollMs: milliseconds,
    /** canary + bake + two readings: a release that misses the canary must catch it in the first wave's bake. */
    rollbackMs: milliseconds,
  }),
  measured: z.object({
    requests: z.int(),
    /** Requests that failed from the first exposure to the end of the traffic. */
    failedRequests: z.int(),
    exposureToRollbackMs: z.nullable(milliseconds),
    exposedRegions: z.array(z.string()),
    acknowledgedWrites: z.int(),
    /** Must be 0. */
    lostAcknowledgedWrites: z.int(),
    lostIds: z.array(z.string()),
    divergence: divergenceSchema,
  }),
  /** The release's own report (shared/release-report.ts). */
  release: releaseReportSchema,
});
export type BadReleaseReport = z.infer<typeof badReleaseSchema>;

export const schema = z.discriminatedUnion("kind", [failoverSchema, conflictSchema, badReleaseSchema]);
export type DrillReport = z.infer<typeof schema>;
