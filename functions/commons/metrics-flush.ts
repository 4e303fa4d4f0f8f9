import type { MetricValueWithName, Registry } from "prom-client";
import { describeError } from "./errors.js";
import {
  encodeWriteRequest,
  REMOTE_WRITE_HEADERS,
  type RemoteWriteSeries,
  snappyLiteralBlock,
} from "./remote-write.js";

export interface MetricsFlushOptions {
  /** The regional Prometheus's receiver, `http://<host>:9090/api/v1/write`. */
  url: string;
  registry: Registry;
  /**
   * Stamped on every series: `region` and `instance` tell the instances apart; `version` is the
   * published version the instance runs, so one version's error rate and latency can be read.
   */
  labels: { job: string; region: string; instance: string; version: string };
  /** At most one flush per this many ms; an invocation that finds one due waits for it. */
  intervalMs: number;
  /** A flush that takes longer is abandoned: the most one request can be slowed by. */
  budgetMs: number;
  nowMs?: () => number;
  onFailure?: (message: string) => void;
  send?: typeof fetch;
}

export type FlushOutcome =
  | { status: "sent"; series: number; bytes: number; durationMs: number }
  | { status: "failed"; series: number; durationMs: number; error: string }
  | { status: "not-due" };

/**
 * Pushes one function instance's prom-client registry to the regional Prometheus by
 * remote-write. Counters stay correct across many short-lived instances without anything
 * forgetting series by hand:
 * - every instance is its own series (`instance` label), so `sum(rate(...))` adds them up;
 * - a series sent for the first time also gets a 0 at the previous flush (when it did not
 *   exist yet), so `rate()` counts its first increments instead of treating them as a reset;
 * - the final flush at shutdown ends each series with Prometheus's staleness marker, and an
 *   instance that vanishes unflushed drops out of queries after the 5-minute lookback, as a
 *   scrape target does.
 */
export class MetricsFlusher {
  private readonly nowMs: () => number;
  private readonly send: typeof fetch;
  private lastAttemptMs: number;
  /** When the instance last told Prometheus everything it had: new series were 0 then. */
  private anchorMs: number;
  private readonly sent = new Set<string>();
  private inFlight: Promise<FlushOutcome> | undefined;
  private ended = false;

  constructor(private readonly options: MetricsFlushOptions) {
    this.nowMs = options.nowMs ?? Date.now;
    this.send = options.send ?? fetch;
    this.lastAttemptMs = this.nowMs();
    this.anchorMs = this.lastAttemptMs;
  }

  /** Called after every invocation: flushes when the interval has passed, otherwise costs a clock read. */
  flushIfDue(): Promise<FlushOutcome> {
    if (this.inFlight !== undefined || this.ended || this.nowMs() - this.lastAttemptMs < this.options.intervalMs) {
      return Promise.resolve({ status: "not-due" });
    }
    return this.flush();
  }

  /** The last flush: current values, then the staleness marker on every series this instance wrote. */
  async shutdown(): Promise<FlushOutcome> {
    await this.inFlight;
    if (this.ended) return { status: "not-due" };
    this.ended = true;
    return this.flush(true);
  }

  flush(final = false): Promise<FlushOutcome> {
    const flushing = this.write(final).finally(() => {
      this.inFlight = undefined;
    });
    this.inFlight = flushing;
    return flushing;
  }

  private async collect(nowMs: number, final: boolean): Promise<RemoteWriteSeries[]> {
    const series: RemoteWriteSeries[] = [];
    for (const metric of await this.options.registry.getMetricsAsJSON()) {
      // Histograms report _bucket, _sum and _count values, each naming itself.
      for (const { value, labels, metricName } of metric.values as MetricValueWithName<string>[]) {
        const all: Record<string, string> = { ...this.options.labels, __name__: metricName ?? metric.name };
        for (const [name, labelValue] of Object.entries(labels)) all[name] = String(labelValue);
        const key = JSON.stringify(all, Object.keys(all).sort());
        const samples: RemoteWriteSeries["samples"] = [];
        if (!this.sent.has(key)) {
          // Every metric here is a counter or a histogram: cumulative from 0.
          if (this.anchorMs < nowMs) samples.push({ value: 0, timestampMs: this.anchorMs });
          this.sent.add(key);
        }
        samples.push({ value, timestampMs: nowMs });
        if (final) samples.push({ value: undefined, timestampMs: nowMs + 1 });
        series.push({ labels: all, samples });
      }
    }
    return series;
  }

  private async write(final: boolean): Promise<FlushOutcome> {
    const started = this.nowMs();
    this.lastAttemptMs = started;
    const series = await this.collect(started, final);
    // Whatever happens to this request, the anchors it carried are spent: resending a 0 older
    // than a sample Prometheus already holds would be rejected as out of order, with the rest.
    this.anchorMs = started;
    const body = snappyLiteralBlock(encodeWriteRequest(series));
    try {
      const response = await this.send(this.options.url, {
        method: "POST",
        headers: REMOTE_WRITE_HEADERS,
        body,
        signal: AbortSignal.timeout(this.options.budgetMs),
      });
      const detail = response.ok ? "" : await response.text();
      if (!response.ok) throw new Error(`HTTP ${response.status}: ${detail.trim().slice(0, 200)}`);
      return { status: "sent", series: series.length, bytes: body.length, durationMs: this.nowMs() - started };
    } catch (error) {
      // fetch hides a refused connection behind "fetch failed"; its cause says what happened.
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
      const message =
        error instanceof Error && error.name === "TimeoutError"
          ? `no answer within the ${this.options.budgetMs} ms budget`
          : error instanceof Error
            ? `${error.message}${cause}`
            : describeError(error);
      this.options.onFailure?.(`metrics flush to ${this.options.url} failed: ${message}`);
      return { status: "failed", series: series.length, durationMs: this.nowMs() - started, error: message };
    }
  }
}
