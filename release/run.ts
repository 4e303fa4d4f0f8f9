import type { RegionResult, ReleaseEvent, ReleaseReport } from "../shared/release-report.js";
import { afterRollback, initialResults, isTouched, outcomeOf, waveDecision } from "./plan.js";

/** What a release needs of a target (AWS, or the local cloud): one region at a time. */
export interface ReleaseDriver {
  /** The version the region serves and the newest one it could serve. */
  inspect(region: string): Promise<{ serving: string; candidate: string }>;
  /**
   * Moves the region from `from` to `to` the target's way (a canary, then all), and resolves once
   * all its traffic is on `to`. Rejects when the move failed or the target rolled it back, and
   * when `signal` aborts (another region failed). `exposed` is called once clients may reach `to`.
   */
  deploy(
    region: string,
    versions: { from: string; to: string },
    progress: {
      signal: AbortSignal;
      exposed: (weight: number) => void;
      event: (text: string, weight?: number) => void;
    },
  ): Promise<void>;
  /** The region's alarms that are firing now, by name; `event` notes what was read, for the timeline. */
  firingAlarms(region: string, event?: (text: string) => void): Promise<string[]>;
  /** Puts all of the region's traffic back on `version` at once, stopping any move in flight. */
  rollBack(region: string, version: string): Promise<void>;
  /** The version the region serves now. */
  serving(region: string): Promise<string>;
}

export interface ReleaseOptions {
  /** The stack (`prod`) or `local`, for the report. */
  target: string;
  waves: string[][];
  driver: ReleaseDriver;
  /** How long each wave is watched after it is promoted, before the next starts. */
  bakeMs: number;
  /** How often the bake reads the alarms. */
  pollMs: number;
  /** Clock and timer, replaceable so a test runs a ten-minute bake in no time. */
  now?: () => number;
  wait?: (ms: number) => Promise<void>;
  /** Each event as it happens, for a readable timeline. */
  onEvent?: (event: ReleaseEvent) => void;
}

const describeError = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Releases wave by wave: every region of a wave moves at once (each independently, so one
 * region's control-plane trouble does not hold up the others), then the wave bakes while its
 * alarms are watched, then the next wave starts. The first failure stops the release and every
 * region it touched, in every wave so far, is put back; each rollback runs on its own, so one
 * region that cannot be reached does not keep the others on the candidate.
 */
export async function release(options: ReleaseOptions): Promise<ReleaseReport> {
  const now = options.now ?? Date.now;
  const wait = options.wait ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const { driver } = options;
  const startedMs = now();
  const startedAt = new Date(startedMs).toISOString();
  const results = initialResults(options.waves);
  const exposed = new Set<string>();
  const timeline: ReleaseEvent[] = [];
  const record = (wave: number, event: string, extra: { region?: string; weight?: number } = {}) => {
    const entry: ReleaseEvent = { atMs: Math.max(0, now() - startedMs), wave, event, ...extra };
    timeline.push(entry);
    options.onEvent?.(entry);
  };
  const fail = (result: RegionResult, reason: string) => {
    result.decision = "failed";
    result.reason = reason;
    record(result.wave, `failed: ${reason}`, { region: result.region });
  };

  for (const [index, regions] of options.waves.entries()) {
    const wave = index + 1;
    const inWave = results.filter((result) => result.wave === wave);
    record(wave, `wave ${wave} starts: ${regions.join(", ")}`);
    const abort = new AbortController();
    await Promise.all(
      inWave.map(async (result) => {
        const { region } = result;
        try {
          const { serving, candidate } = await driver.inspect(region);
          result.previousVersion = serving;
          result.candidateVersion = candidate;
          if (serving === candidate) {
            result.decision = "unchanged";
            record(wave, `already serves version ${candidate}`, { region });
            return;
          }
          if (abort.signal.aborted) return;
          result.decision = "failed";
          record(wave, `moving from version ${serving} to ${candidate}`, { region });
          await driver.deploy(
            region,
            { from: serving, to: candidate },
            {
              signal: abort.signal,
              exposed: (weight) => {
                exposed.add(region);
                record(wave, "candidate serving", { region, weight });
              },
              event: (text, weight) => record(wave, text, { region, ...(weight !== undefined && { weight }) }),
            },
          );
          result.decision = "promoted";
          record(wave, `promoted to version ${candidate}`, { region, weight: 1 });
        } catch (error) {
          fail(result, abort.signal.aborted ? `stopped: ${describeError(error)}` : describeError(error));
          abort.abort();
        }
      }),
    );

    if (inWave.every((result) => result.decision === "promoted" || result.decision === "unchanged")) {
      const firing = await bake(wave, inWave);
      if (firing === undefined) {
        record(wave, `wave ${wave} baked`);
        continue;
      }
    }
    await rollBackTouched(wave);
    break;
  }

  for (const result of results) {
    try {
      result.finalVersion = await driver.serving(result.region);
    } catch {
      result.finalVersion = null;
    }
  }
  const waves = options.waves.map((regions, index) => ({
    wave: index + 1,
    regions,
    decision: waveDecision(results.filter((result) => result.wave === index + 1)),
  }));
  return {
    target: options.target,
    startedAt,
    finishedAt: new Date(now()).toISOString(),
    outcome: outcomeOf(results),
    waves,
    regions: results,
    exposedRegions: [...exposed],
    finalVersions: Object.fromEntries(results.map((result) => [result.region, result.finalVersion])),
    timeline,
  };

  /** Watches the promoted wave's alarms for bakeMs; returns the first region whose alarm fired. */
  async function bake(wave: number, inWave: RegionResult[]): Promise<string | undefined> {
    const watched = inWave.filter((result) => result.decision === "promoted");
    if (watched.length === 0) return undefined;
    record(wave, `baking ${Math.round(options.bakeMs / 1000)} s, watching the alarms`);
    const until = now() + options.bakeMs;
    const unreadable = new Map<string, string>();
    for (;;) {
      const readings = await Promise.all(
        watched.map(async (result) => {
          try {
            const firing = await driver.firingAlarms(result.region, (text) =>
              record(wave, text, { region: result.region, weight: 1 }),
            );
            unreadable.delete(result.region);
            return { result, firing };
          } catch (error) {
            unreadable.set(result.region, describeError(error));
            return { result, firing: [] };
          }
        }),
      );
      const breached = readings.find((reading) => reading.firing.length > 0);
      if (breached !== undefined) {
        fail(breached.result, `alarm ${breached.firing.join(", ")} fired while baking`);
        return breached.result.region;
      }
      if (now() >= until) break;
      await wait(Math.min(options.pollMs, Math.max(0, until - now())));
    }
    // A region whose alarms could not be read at the end of its bake was not seen healthy.
    const [region, reason] = [...unreadable][0] ?? [];
    if (region === undefined) return undefined;
    const result = watched.find((one) => one.region === region) as RegionResult;
    fail(result, `its alarms could not be read at the end of the bake: ${reason}`);
    return region;
  }

  async function rollBackTouched(wave: number): Promise<void> {
    const touched = results.filter(isTouched).filter((result) => result.previousVersion !== null);
    record(wave, `rolling back ${touched.map((result) => result.region).join(", ") || "nothing"}`);
    await Promise.all(
      touched.map(async (result) => {
        const previous = result.previousVersion as string;
        try {
          await driver.rollBack(result.region, previous);
          result.decision = afterRollback(result, true);
          record(result.wave, `rolled back to version ${previous}`, { region: result.region, weight: 0 });
        } catch (error) {
          result.decision = afterRollback(result, false);
          result.reason = `${result.reason ?? "rolled back after another region failed"}; the rollback failed: ${describeError(error)}`;
          record(result.wave, `ROLLBACK FAILED: ${describeError(error)}`, { region: result.region });
        }
      }),
    );
    for (const result of results.filter((one) => one.decision === "rolled-back" && one.reason === undefined)) {
      result.reason = "rolled back because the release failed elsewhere";
    }
  }
}
