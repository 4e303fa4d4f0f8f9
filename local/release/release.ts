import { release } from "../../release/run.js";
import { CANARY_WEIGHT } from "../../shared/release.js";
import type { ReleaseEvent, ReleaseReport } from "../../shared/release-report.js";
import { loadStack } from "../../shared/stack-file.js";
import type { CloudState } from "../cloud/cloud.js";
import { ControlError, callControl } from "../cloud/control-client.js";
import { localDriver } from "./driver.js";
import { BurnRateWatch } from "./watch.js";

/** The durations of a local release as written (AWS minutes and seconds), before the cloud's time scale shrinks them. */
export interface LocalReleaseTiming {
  canaryMinutes: number;
  bakeMinutes: number;
  pollSeconds: number;
}

/**
 * The local release's defaults: CodeDeploy's ten-minute canary would be 30 s at time scale 0.05;
 * five minutes (the fast-burn rule's short window, the shortest it judges) keeps a two-wave
 * release under a minute there while the canary still sees a whole short window.
 */
export const LOCAL_RELEASE_DEFAULTS: LocalReleaseTiming = { canaryMinutes: 5, bakeMinutes: 5, pollSeconds: 15 };

/** Publishing loads the bundle in a process of its own first (local/release/check-bundle.ts), slow on a busy machine. */
const PUBLISH_TIMEOUT_MS = 120_000;

/** A poll never comes faster than this, whatever the scale: each reads a few Prometheus queries. */
const MIN_POLL_MS = 250;

export function scaledTiming(timing: LocalReleaseTiming, timeScale: number) {
  return {
    canaryMs: timing.canaryMinutes * 60_000 * timeScale,
    bakeMs: timing.bakeMinutes * 60_000 * timeScale,
    pollMs: Math.max(MIN_POLL_MS, timing.pollSeconds * 1000 * timeScale),
  };
}

/** The local cloud cannot release this (no monitoring): a usage error, nothing was published. */
export class LocalReleaseRefused extends Error {}

export interface LocalReleaseOptions {
  state: CloudState;
  /** An absolute path to the bundle to release. */
  bundle: string;
  timing: LocalReleaseTiming;
  onEvent?: (event: ReleaseEvent) => void;
  log?: (line: string) => void;
}

/**
 * `npm run release -- --target local`: publishes the bundle as a new version in every region of
 * the running cloud (refused when it does not load), then releases it wave by wave with the
 * planner the AWS release uses (release/run.ts), the cloud's stack's releaseWaves and durations
 * shrunk by its time scale. Refused without monitoring: the canary is judged by the version's
 * burn rates on the regional Prometheus, and there is nothing else to judge it by.
 */
export async function releaseLocal(options: LocalReleaseOptions): Promise<ReleaseReport> {
  const { state } = options;
  const log = options.log ?? (() => undefined);
  const { monitoring } = state;
  if (!("regional" in monitoring)) {
    throw new LocalReleaseRefused(
      `the local cloud runs without monitoring (${monitoring.disabled}); the local release judges each canary by its version's burn rates on the regional Prometheus, so it needs it: start the cloud without --no-monitoring`,
    );
  }
  const { config } = loadStack(state.stack);
  const { versions } = await callControl<{ versions: Record<string, string> }>(
    state,
    "POST",
    "/functions/publish",
    { bundle: options.bundle },
    PUBLISH_TIMEOUT_MS,
  ).catch((error: unknown) => {
    throw error instanceof ControlError ? new LocalReleaseRefused(error.message) : error;
  });
  log(
    `published ${options.bundle}: ${Object.entries(versions)
      .map(([region, version]) => `${region} version ${version}`)
      .join(", ")}`,
  );
  const timing = scaledTiming(options.timing, state.timeScale);
  log(
    `canary ${Math.round(CANARY_WEIGHT * 100)}% for ${(timing.canaryMs / 1000).toFixed(1)} s, bake ${(timing.bakeMs / 1000).toFixed(1)} s, readings every ${(timing.pollMs / 1000).toFixed(2)} s (time scale ${state.timeScale})`,
  );
  const watch = new BurnRateWatch({
    config,
    timeScale: state.timeScale,
    candidates: versions,
    prometheusUrl: (region) => {
      const url = monitoring.regional[region]?.prometheus;
      if (url === undefined) throw new Error(`${region} has no Prometheus`);
      return url;
    },
  });
  return release({
    target: "local",
    waves: config.releaseWaves,
    driver: localDriver({
      state,
      candidates: versions,
      canaryWeight: CANARY_WEIGHT,
      canaryMs: timing.canaryMs,
      pollMs: timing.pollMs,
      watch,
    }),
    bakeMs: timing.bakeMs,
    pollMs: timing.pollMs,
    ...(options.onEvent !== undefined && { onEvent: options.onEvent }),
  });
}
