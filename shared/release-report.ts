import * as z from "zod/mini";

/**
 * The JSON report of a release (`npm run release -- --target <stack>|local --json <file>`). The
 * AWS release (release/) and the local one write the same shape, so one reader (CI, a drill)
 * serves both. Versions are strings: Lambda numbers its versions, the local cloud may name them.
 */

export const REGION_DECISIONS = [
  /** The region serves the new version. */
  "promoted",
  /** The region already served the candidate: nothing to move. */
  "unchanged",
  /** The release moved the region, then moved it back. */
  "rolled-back",
  /** The region's deployment failed or its alarms fired; it serves the previous version again. */
  "failed",
  /** Moving the region back failed: it needs a hand (docs/RELEASING.md#roll-back-by-hand). */
  "rollback-failed",
  /** A wave before it failed: the release never touched it. */
  "not-started",
] as const;

/** A wave fails when one of its regions did; it is rolled back when a later wave failed. */
export const WAVE_DECISIONS = ["promoted", "failed", "rolled-back", "not-started"] as const;

const isoTime = z
  .string()
  .check(z.regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, { error: "an ISO 8601 UTC time" }));

export const regionSchema = z.object({
  region: z.string(),
  /** 1 for the first wave. */
  wave: z.int().check(z.gte(1)),
  /** What the region served when the release started; null when the release could not read it. */
  previousVersion: z.nullable(z.string()),
  /** What the release meant it to serve. */
  candidateVersion: z.nullable(z.string()),
  decision: z.enum(REGION_DECISIONS),
  /** Why, in words, for every decision but promoted, unchanged and not-started. */
  reason: z.optional(z.string()),
  /** What the region serves at the end, as last read; null when it could not be read. */
  finalVersion: z.nullable(z.string()),
});
export type RegionResult = z.infer<typeof regionSchema>;

export const waveSchema = z.object({
  wave: z.int().check(z.gte(1)),
  regions: z.array(z.string()),
  decision: z.enum(WAVE_DECISIONS),
});

export const eventSchema = z.object({
  /** ms since the release started. */
  atMs: z.number().check(z.gte(0)),
  wave: z.int().check(z.gte(1)),
  region: z.optional(z.string()),
  /** What happened, in a few words: "canary started", "alarm 5xx-rate in ALARM", "rolled back". */
  event: z.string(),
  /** The traffic share on the candidate, 0 to 1, when the event knows it. */
  weight: z.optional(z.number().check(z.gte(0), z.lte(1))),
});

export const schema = z.object({
  /** The stack released (`prod`), or `local`. */
  target: z.string(),
  startedAt: isoTime,
  finishedAt: isoTime,
  outcome: z.enum(["promoted", "rolled-back"]),
  waves: z.array(waveSchema),
  regions: z.array(regionSchema),
  /** Every region that served the candidate to any client, even for a moment. */
  exposedRegions: z.array(z.string()),
  /** The version each region serves at the end (null where it could not be read). */
  finalVersions: z.record(z.string(), z.nullable(z.string())),
  timeline: z.array(eventSchema),
});
export type ReleaseReport = z.infer<typeof schema>;
export type ReleaseEvent = z.infer<typeof eventSchema>;
export type RegionDecision = (typeof REGION_DECISIONS)[number];
