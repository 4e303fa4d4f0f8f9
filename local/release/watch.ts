import { scaledWindow, USER_REQUESTS } from "../../monitoring/rules.js";
import { BURN_RATE_ALERTS, errorBudget, latencyBucketBound, type Slo, slos } from "../../monitoring/slo.js";
import { METRICS } from "../../shared/metrics.js";
import type { StackConfig } from "../../shared/stack-config.js";
import { queryPrometheus } from "../monitoring/prometheus.js";

/** One SLO's bad-event ratio for one version over the fast-burn rule's windows, and whether it breaches. */
export interface SloReading {
  slo: Slo["name"];
  /** Bad events / all events over the short window; null without traffic. */
  ratio: number | null;
  /** The same over the long window: what the baseline comparison reads. */
  longRatio: number | null;
  /** "Availability burn 40.0× > 14.4× over 15s and 3m", when it breaches. */
  breaches: string[];
}

export interface VersionReading {
  region: string;
  version: string;
  /** Requests the version served in the short window (Prometheus's estimate). */
  requests: number;
  /** Instances of the version that started in the short window (cold starts). */
  instancesStarted: number;
  readings: SloReading[];
  /** Breaches that are the version's own; a latency burn the whole machine shares is left out here. */
  breaches: string[];
  /** Why a latency breach was not counted against the version, when one was not. */
  excused?: string;
}

export interface BurnRateWatchOptions {
  config: StackConfig;
  timeScale: number;
  /**
   * Every region of the cloud and the version the release published in it (numbers differ
   * between regions): the requests served beside the candidate are read from all of them, less
   * the candidate's own wherever it serves.
   */
  candidates: Record<string, string>;
  /** The region's own Prometheus, which the function's instances remote-write to. */
  prometheusUrl: (region: string) => string;
}

/** Bad events and all events of one SLO over one window. */
export interface EventCounts {
  bad: number;
  total: number;
}

/**
 * The fast-burn page (14.4× over 1 h and 5 min): the only alert whose short window fits inside a
 * canary; the slower pages' short windows (30 min) outlast it. A new version's windows hold only
 * its own requests, so its long window is no calmer than its short one.
 */
export const CANARY_RULE = BURN_RATE_ALERTS.find(
  (rule) => rule.severity === "page",
) as (typeof BURN_RATE_ALERTS)[number];

/**
 * Fewer requests than this in the short window are not judged. Latency needs 20: two slow ones
 * out of 20 (10%) stay under the fast burn's 14.4% of a 1% budget, where two out of 10 would not.
 * Errors have no start-up cost, so 10 are enough to judge them and a failing version is caught
 * sooner.
 */
export const MIN_JUDGED_REQUESTS: Record<Slo["name"], number> = { Availability: 10, Latency: 20 };

/**
 * Slow requests each new instance may serve before the version is charged for latency. An
 * instance's first requests are slow by design: the SDK loads on first use
 * (functions/commons/clients.ts) and the first connection to DynamoDB opens. Measured on an idle
 * machine, the eight instances two local releases started served 1, 1, 2, 2, 2, 2, 2 and 4 slow
 * requests. At AWS's volumes that is a sliver of a window; at the local cloud's few clients, a
 * promotion that started four instances made 22.5% of the bake's first 21 requests slow and
 * rolled a good release back. A version slow in its own code is slow on every request, far beyond
 * this allowance.
 */
export const WARM_UP_SLOW_REQUESTS = 3;

/** The share of events charged as bad once `allowance` bad ones are forgiven; null without events. */
export function chargedRatio({ bad, total }: EventCounts, allowance: number): number | null {
  return total > 0 ? Math.max(bad - allowance, 0) / total : null;
}

const percent = (ratio: number | null) => (ratio === null ? "—" : `${(ratio * 100).toFixed(1)}%`);

/**
 * Why a candidate's latency breach is the machine's and not the version's, or undefined when it is
 * the version's. The local cloud runs every region and every version on one machine, so requests
 * served at the same time by any other version, in any region (the control), are slowed by the
 * same load. The candidate is charged only the
 * burn it adds above the control's over the same short window. When the control served too few
 * requests to compare with, the previous version's long window is the reference, as before: it
 * still holds that version's requests from before the move.
 */
export function latencyExcuse(input: {
  /** The candidate's slow ratio over the short window. */
  candidate: number;
  /** Everything else the cloud served over the same short window. */
  control: EventCounts;
  /** The previous version's slow ratio over the long window, null without traffic or baseline. */
  baselineLong: number | null;
  budget: number;
  burnRate: number;
  window: string;
}): string | undefined {
  const { candidate, control, baselineLong, budget, burnRate, window } = input;
  if (control.total >= MIN_JUDGED_REQUESTS.Latency) {
    const controlRatio = control.bad / control.total;
    const excess = (candidate - controlRatio) / budget;
    if (excess <= burnRate) {
      return `Latency: the rest of the cloud was ${percent(controlRatio)} slow over the same ${window} (${Math.round(control.total)} requests), the candidate adds ${Math.max(excess, 0).toFixed(1)}× ≤ ${burnRate}×: the machine's, not the release's`;
    }
    return undefined;
  }
  if (baselineLong !== null && baselineLong / budget > burnRate) {
    return `Latency burning in the previous version too (${percent(baselineLong)} slow): not the release's`;
  }
  return undefined;
}

/**
 * Reads one version's SLIs from the region's Prometheus, by the function's `version` label, and
 * judges them with the fast-burn rule the alerts use (monitoring/slo.ts), its windows shrunk by
 * the cloud's time scale as the rules' are: a version breaches when its bad-event ratio, divided
 * by the error budget, is above the rule's burn rate over both windows.
 */
export class BurnRateWatch {
  constructor(private readonly options: BurnRateWatchOptions) {}

  private range(window: string): string {
    return scaledWindow(window, this.options.timeScale);
  }

  private async value(region: string, expression: string): Promise<number | null> {
    const [sample] = await queryPrometheus(this.options.prometheusUrl(region), expression);
    const value = sample === undefined ? Number.NaN : Number(sample.value[1]);
    return Number.isFinite(value) ? value : null;
  }

  /** One SLO's bad and total events for the user requests of the function series `series` picks in `region`'s Prometheus. */
  private async counts(region: string, slo: Slo, series: string, window: string): Promise<EventCounts> {
    const range = this.range(window);
    const selector = `${series},${USER_REQUESTS}`;
    const requests = METRICS.requests.name;
    const duration = METRICS.requestDuration.name;
    if (slo.sli === "availability_errors") {
      const [bad, total] = await Promise.all([
        this.value(region, `sum(increase(${requests}{${selector},status=~"5.."}[${range}]))`),
        this.value(region, `sum(increase(${requests}{${selector}}[${range}]))`),
      ]);
      return { bad: bad ?? 0, total: total ?? 0 };
    }
    const bound = latencyBucketBound(this.options.config);
    const [fast, total] = await Promise.all([
      this.value(region, `sum(increase(${duration}_bucket{${selector},le="${bound}"}[${range}]))`),
      this.value(region, `sum(increase(${duration}_count{${selector}}[${range}]))`),
    ]);
    return { bad: Math.max((total ?? 0) - (fast ?? 0), 0), total: total ?? 0 };
  }

  /**
   * Instances of the series that started within the window: each has one cold-start series, at 1
   * from its first sample on (so increase() would never count it).
   */
  private async instancesStarted(region: string, series: string, window: string): Promise<number> {
    const range = this.range(window);
    const coldStarts = `${METRICS.coldStarts.name}{${series}}`;
    return (
      (await this.value(
        region,
        `count(last_over_time(${coldStarts}[${range}]) unless ${coldStarts} offset ${range})`,
      )) ?? 0
    );
  }

  /** Bad events / all events; `allowance` bad events are not counted (a new instance's warm-up). */
  private async ratio(
    region: string,
    slo: Slo,
    series: string,
    window: string,
    allowance: number,
  ): Promise<number | null> {
    return chargedRatio(await this.counts(region, slo, series, window), allowance);
  }

  /** The version's SLIs and whether it breaches the fast-burn rule on its own. */
  async read(region: string, version: string): Promise<VersionReading> {
    const series = `region="${region}",version="${version}"`;
    const rule = CANARY_RULE;
    const [requests, started, startedLong] = await Promise.all([
      this.value(
        region,
        `sum(increase(${METRICS.requests.name}{${series},${USER_REQUESTS}}[${this.range(rule.shortWindow)}]))`,
      ),
      this.instancesStarted(region, series, rule.shortWindow),
      this.instancesStarted(region, series, rule.longWindow),
    ]);
    const readings = await Promise.all(
      slos(this.options.config).map(async (slo): Promise<SloReading> => {
        const budget = errorBudget(slo);
        const warmUp = slo.sli === "latency_slow" ? WARM_UP_SLOW_REQUESTS : 0;
        const [ratio, longRatio] = await Promise.all([
          this.ratio(region, slo, series, rule.shortWindow, warmUp * started),
          this.ratio(region, slo, series, rule.longWindow, warmUp * startedLong),
        ]);
        const breaches =
          (requests ?? 0) >= MIN_JUDGED_REQUESTS[slo.name] &&
          ratio !== null &&
          longRatio !== null &&
          ratio / budget > rule.burnRate &&
          longRatio / budget > rule.burnRate
            ? [
                `${slo.name} burn ${(ratio / budget).toFixed(1)}× > ${rule.burnRate}× over ${this.range(rule.shortWindow)} and ${this.range(rule.longWindow)}`,
              ]
            : [];
        return { slo: slo.name, ratio, longRatio, breaches };
      }),
    );
    return {
      region,
      version,
      requests: requests ?? 0,
      instancesStarted: started,
      readings,
      breaches: readings.flatMap((reading) => reading.breaches),
    };
  }

  /**
   * Latency events over the short window of every request the cloud served but the candidate's,
   * in any region: from the second wave on, the first wave's regions serve the candidate too, and
   * a slow version must not be compared with itself.
   */
  private async control(slo: Slo): Promise<EventCounts> {
    const parts = await Promise.all(
      Object.entries(this.options.candidates).map(([region, candidate]) =>
        this.counts(region, slo, `region="${region}",version!="${candidate}"`, CANARY_RULE.shortWindow),
      ),
    );
    return parts.reduce((sum, part) => ({ bad: sum.bad + part.bad, total: sum.total + part.total }), {
      bad: 0,
      total: 0,
    });
  }

  /** A version's slow share over the fast-burn rule's long window, its instances' warm-up forgiven as in read(). */
  private async longLatencyRatio(region: string, version: string, slo: Slo): Promise<number | null> {
    const series = `region="${region}",version="${version}"`;
    const started = await this.instancesStarted(region, series, CANARY_RULE.longWindow);
    return this.ratio(region, slo, series, CANARY_RULE.longWindow, WARM_UP_SLOW_REQUESTS * started);
  }

  /**
   * The candidate's breaches, less a latency burn the machine caused (latencyExcuse): a saturated
   * machine slows every version alike. Errors get no such pass: a region failing anyway is no place
   * to leave a new version, and rolling back costs nothing.
   */
  async compare(region: string, candidate: string, baseline: string | undefined): Promise<VersionReading> {
    const reading = await this.read(region, candidate);
    const latency = reading.readings.find((one) => one.slo === "Latency");
    const slo = slos(this.options.config).find((one) => one.name === "Latency");
    if (latency?.ratio == null || latency.breaches.length === 0 || slo === undefined) return reading;
    const [control, baselineLong] = await Promise.all([
      this.control(slo),
      baseline === undefined ? null : this.longLatencyRatio(region, baseline, slo),
    ]);
    const excused = latencyExcuse({
      candidate: latency.ratio,
      control,
      baselineLong,
      budget: errorBudget(slo),
      burnRate: CANARY_RULE.burnRate,
      window: this.range(CANARY_RULE.shortWindow),
    });
    if (excused === undefined) return reading;
    return {
      ...reading,
      breaches: reading.readings.filter((one) => one !== latency).flatMap((one) => one.breaches),
      excused,
    };
  }
}

/**
 * `42 requests: errors 12.5%, slow 0.0%` (— where the version had no traffic in the window), and
 * the warm-up left out of "slow" when instances started.
 */
export function describeReading(reading: VersionReading): string {
  const [availability, latency] = reading.readings;
  const fewest = Math.min(...Object.values(MIN_JUDGED_REQUESTS));
  const judged = reading.requests >= fewest ? "" : ` (too few to judge, ${fewest} needed)`;
  const started = reading.instancesStarted;
  const warmUp =
    started > 0
      ? ` (${started} new instance${started === 1 ? "" : "s"}: ${WARM_UP_SLOW_REQUESTS * started} slow allowed for warm-up)`
      : "";
  const excused = reading.excused === undefined ? "" : `; ${reading.excused}`;
  return `${Math.round(reading.requests)} requests${judged}: errors ${percent(availability?.ratio ?? null)}, slow ${percent(latency?.ratio ?? null)}${warmUp}${excused}`;
}
