import type { RegionDecision, RegionResult, ReleaseReport } from "../shared/release-report.js";

/**
 * The pure half of a release: what each region's decision means for the release as a whole. No
 * I/O here; release/run.ts drives a target through it, and a local release can drive the local
 * cloud through the same rules.
 */

/** A region the release has moved onto the candidate, wholly or in part: it is rolled back on failure. */
export function isTouched(result: RegionResult): boolean {
  return result.decision === "promoted" || result.decision === "failed";
}

/** The decision a touched region ends with once a rollback has (or has not) put it back. */
export function afterRollback(result: RegionResult, rolledBack: boolean): RegionDecision {
  if (!rolledBack) return "rollback-failed";
  return result.decision === "promoted" ? "rolled-back" : "failed";
}

/** The release is promoted only when every region serves the candidate (or already did). */
export function outcomeOf(results: RegionResult[]): ReleaseReport["outcome"] {
  return results.every((result) => result.decision === "promoted" || result.decision === "unchanged")
    ? "promoted"
    : "rolled-back";
}

/** The wave's decision from its regions'. */
export function waveDecision(results: RegionResult[]): ReleaseReport["waves"][number]["decision"] {
  const decisions = new Set(results.map((result) => result.decision));
  if (decisions.has("failed")) return "failed";
  if (decisions.has("rolled-back") || decisions.has("rollback-failed")) return "rolled-back";
  if ([...decisions].every((decision) => decision === "not-started")) return "not-started";
  return "promoted";
}

/** The regions in release order, each with its wave (1 for the first), as the report starts them. */
export function initialResults(waves: string[][]): RegionResult[] {
  return waves.flatMap((regions, index) =>
    regions.map(
      (region): RegionResult => ({
        region,
        wave: index + 1,
        previousVersion: null,
        candidateVersion: null,
        decision: "not-started",
        finalVersion: null,
      }),
    ),
  );
}
