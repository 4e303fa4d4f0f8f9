import type { ReleaseDriver } from "../../release/run.js";
import type { LiveAlias, RegionFunction } from "../../shared/function-versions.js";
import type { CloudState } from "../cloud/cloud.js";
import { callControl } from "../cloud/control-client.js";
import { type BurnRateWatch, describeReading } from "./watch.js";

export interface LocalDriverOptions {
  state: CloudState;
  /** The version each region published for this release. */
  candidates: Record<string, string>;
  /** The candidate's share of the region's traffic during the canary. */
  canaryWeight: number;
  canaryMs: number;
  /** How often the canary's and the bake's burn rates are read. */
  pollMs: number;
  watch: BurnRateWatch;
  now?: () => number;
}

/** Waits `ms`, or less when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

const percent = (weight: number) => `${Math.round(weight * 100)}%`;

/**
 * The release against the local cloud: there is no CodeDeploy here, so the driver moves each
 * region's `live` alias itself through the cloud's control endpoint (a canary weight, then all),
 * and watches the candidate version's burn rates (watch.ts) during the canary and the bake.
 */
export function localDriver(options: LocalDriverOptions): ReleaseDriver {
  const { state, watch } = options;
  const now = options.now ?? Date.now;
  const functions = () => callControl<Record<string, RegionFunction | undefined>>(state, "GET", "/functions");
  const aliasOf = async (region: string): Promise<LiveAlias> => {
    const alias = (await functions())[region]?.alias;
    if (alias === undefined) throw new Error(`${region} has no function in the local cloud`);
    return alias;
  };
  /** The version each region served before the release moved it: the bake's baseline. */
  const previous = new Map<string, string>();
  const setAlias = (region: string, alias: LiveAlias) =>
    callControl(state, "POST", "/functions/alias", { region, alias });

  return {
    async inspect(region) {
      const alias = await aliasOf(region);
      const candidate = options.candidates[region];
      if (candidate === undefined) throw new Error(`${region} published no candidate version`);
      if (alias.additionalVersion !== undefined) {
        throw new Error(
          `${region}'s live alias is split between versions ${alias.version} and ${alias.additionalVersion} (a release in flight, or one that stopped midway): put it on one version first`,
        );
      }
      return { serving: alias.version, candidate };
    },

    async deploy(region, { from, to }, progress) {
      const weight = options.canaryWeight;
      previous.set(region, from);
      await setAlias(region, { version: from, additionalVersion: to, weight });
      progress.exposed(weight);
      const until = now() + options.canaryMs;
      for (;;) {
        if (progress.signal.aborted) throw new Error("another region of the wave failed");
        const reading = await watch.compare(region, to, from);
        const verdict = reading.breaches.length === 0 ? "within the SLO" : `BREACH: ${reading.breaches.join("; ")}`;
        progress.event(`canary ${percent(weight)} on version ${to}: ${describeReading(reading)}: ${verdict}`, weight);
        if (reading.breaches.length > 0) throw new Error(`the canary breached the SLO: ${reading.breaches.join("; ")}`);
        const left = until - now();
        if (left <= 0) break;
        await pause(Math.min(options.pollMs, left), progress.signal);
      }
      await setAlias(region, { version: to });
    },

    async firingAlarms(region, event) {
      const { version } = await aliasOf(region);
      const reading = await watch.compare(region, version, previous.get(region));
      const verdict = reading.breaches.length === 0 ? "within the SLO" : `BREACH: ${reading.breaches.join("; ")}`;
      event?.(`baking version ${version}: ${describeReading(reading)}: ${verdict}`);
      return reading.breaches;
    },

    async rollBack(region, version) {
      await setAlias(region, { version });
    },

    async serving(region) {
      return (await aliasOf(region)).version;
    },
  };
}
