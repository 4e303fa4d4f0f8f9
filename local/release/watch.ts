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
  readings: SloReading[];
  /** Breaches the baseline version shares are the region's trouble, not the version's: left out here. */
  breaches: string[];
  /** The SLOs the candidate breached but the baseline was burning too. */
  shared?: string[];
}

export interface BurnRateWatchOptions {
  config: StackConfig;
  timeScale: number;
  /** The region's own Prometheus, which the function's instances remote-write to. */
  prometheusUrl: (region: string) => string;
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
 * Fewer requests than this in the short window are not judged. Latency needs 20: a new version's
 * first requests are cold starts, and two slow ones out of 20 (10%) stay under the fast burn's
 * 14.4% of a 1% budget, where two out of 10 would not. Errors have no such start-up cost, so 10
 * are enough to judge them and a failing version is caught sooner.
 */
export const MIN_JUDGED_REQUESTS: Record<Slo["name"], number> = { Availability: 10, Latency: 20 };
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

  private ratioExpression(slo: Slo, selector: string, window: string): string {
    const range = this.range(window);
    const requests = METRICS.requests.name;
    const duration = METRICS.requestDuration.name;
    if (slo.sli === "availability_errors") {
      return `(sum(rate(${requests}{${selector},status=~"5.."}[${range}])) or vector(0)) / sum(rate(${requests}{${selector}}[${range}]))`;
    }
    const bound = latencyBucketBound(this.options.config);
    return `(sum(rate(${duration}_count{${selector}}[${range}])) - sum(rate(${duration}_bucket{${selector},le="${bound}"}[${range}]))) / sum(rate(${duration}_count{${selector}}[${range}]))`;
  }

  private async value(region: string, expression: string): Promise<number | null> {
    const [sample] = await queryPrometheus(this.options.prometheusUrl(region), expression);
    const value = sample === undefined ? Number.NaN : Number(sample.value[1]);
    return Number.isFinite(value) ? value : null;
  }

  /** The version's SLIs and whether it breaches the fast-burn rule on its own. */
  async read(region: string, version: string): Promise<VersionReading> {
    const selector = `region="${region}",version="${version}",${USER_REQUESTS}`;
    const rule = CANARY_RULE;
    const requests =
      (await this.value(
        region,
        `sum(increase(${METRICS.requests.name}{${selector}}[${this.range(rule.shortWindow)}]))`,
      )) ?? 0;
    const readings = await Promise.all(
      slos(this.options.config).map(async (slo): Promise<SloReading> => {
        const budget = errorBudget(slo);
        const [ratio, longRatio] = await Promise.all([
          this.value(region, this.ratioExpression(slo, selector, rule.shortWindow)),
          this.value(region, this.ratioExpression(slo, selector, rule.longWindow)),
        ]);
        const breaches =
          requests >= MIN_JUDGED_REQUESTS[slo.name] &&
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
    return { region, version, requests, readings, breaches: readings.flatMap((reading) => reading.breaches) };
  }

  /**
   * The candidate's breaches, less a latency burn that the baseline (the version it replaces) was
   * already burning over the rule's long window, which still holds the baseline's requests from
   * before the move: a saturated machine slows every version alike. Errors get no such pass: a
   * region failing anyway is no place to leave a new version, and rolling back costs nothing.
   */
  async compare(region: string, candidate: string, baseline: string | undefined): Promise<VersionReading> {
    const reading = await this.read(region, candidate);
    const latency = reading.readings.find((one) => one.slo === "Latency");
    if (baseline === undefined || latency === undefined || latency.breaches.length === 0) return reading;
    const base = (await this.read(region, baseline)).readings.find((one) => one.slo === "Latency");
    const budget = errorBudget(slos(this.options.config).find((slo) => slo.name === "Latency") as Slo);
    const shared = base?.longRatio != null && base.longRatio / budget > CANARY_RULE.burnRate;
    if (!shared) return reading;
    return {
      ...reading,
      breaches: reading.readings.filter((one) => one !== latency).flatMap((one) => one.breaches),
      shared: ["Latency"],
    };
  }
}

/** `42 requests: errors 12.5%, slow 0.0%` (— where the version had no traffic in the window). */
export function describeReading(reading: VersionReading): string {
  const percent = (ratio: number | null) => (ratio === null ? "—" : `${(ratio * 100).toFixed(1)}%`);
  const [availability, latency] = reading.readings;
  const fewest = Math.min(...Object.values(MIN_JUDGED_REQUESTS));
  const judged = reading.requests >= fewest ? "" : ` (too few to judge, ${fewest} needed)`;
  const shared =
    reading.shared === undefined
      ? ""
      : `; ${reading.shared.join(", ")} burning in the previous version too: not the release's`;
  return `${Math.round(reading.requests)} requests${judged}: errors ${percent(availability?.ratio ?? null)}, slow ${percent(latency?.ratio ?? null)}${shared}`;
}
