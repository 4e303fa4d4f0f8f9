import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireMonitoringBinaries } from "../../local/monitoring/binaries.js";
import { type PrometheusServer, queryPrometheus, startPrometheus } from "../../local/monitoring/prometheus.js";
import { createMetrics } from "../commons/metrics.js";
import { MetricsFlusher } from "../commons/metrics-flush.js";
import { loadBundle } from "./support/bundle.js";
import { TEST_REGION, TEST_TABLE, useDynamoDbLocal } from "./support/dynamodb.js";
import { get, postJson } from "./support/events.js";

// The function's remote-write flush against a real Prometheus with its receiver enabled.

let prometheus: PrometheusServer;
let directory: string;
const database = useDynamoDbLocal();

beforeAll(async () => {
  directory = mkdtempSync(path.join(tmpdir(), "calcburst-remote-write-"));
  prometheus = await startPrometheus({
    name: "test Prometheus",
    binary: requireMonitoringBinaries().prometheus,
    config: { global: { scrape_interval: "15s" } },
    directory,
    remoteWriteReceiver: true,
  });
});

afterAll(async () => {
  await prometheus?.stop();
  rmSync(directory, { recursive: true, force: true });
});

const receiver = () => `${prometheus.url}/api/v1/write`;

function flusherFor(instance: string, overrides: Partial<ConstructorParameters<typeof MetricsFlusher>[0]> = {}) {
  const metrics = createMetrics();
  const flusher = new MetricsFlusher({
    url: receiver(),
    registry: metrics.registry,
    labels: { job: "calcburst-function", region: "eu-west-1", instance, version: "7" },
    intervalMs: 10_000,
    budgetMs: 1000,
    ...overrides,
  });
  return { metrics, flusher };
}

/** A loopback server that accepts requests and never answers them: a hung receiver. */
async function hungServer(): Promise<{ url: string; server: Server; requests: () => number }> {
  let requests = 0;
  const server = createServer(() => {
    requests += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`,
    server,
    requests: () => requests,
  };
}

describe("the function's metrics flush (Prometheus remote-write)", () => {
  it("writes counters and histograms that Prometheus stores with the region and instance labels", async () => {
    // Prepare
    const { metrics, flusher } = flusherFor("labels-1");
    metrics.requests.inc({ route: "POST /v1/calculations", operation: "add", status: "201" }, 3);
    metrics.requestDuration.observe({ route: "POST /v1/calculations" }, 0.02);

    // Act
    const outcome = await flusher.flush();

    // Assess
    expect(outcome).toMatchObject({ status: "sent" });
    const requests = await queryPrometheus(prometheus.url, 'calcburst_requests_total{instance="labels-1"}');
    expect(requests).toHaveLength(1);
    expect(requests[0]?.metric).toMatchObject({
      job: "calcburst-function",
      region: "eu-west-1",
      instance: "labels-1",
      version: "7",
      route: "POST /v1/calculations",
      status: "201",
    });
    expect(requests[0]?.value[1]).toBe("3");
    const fast = await queryPrometheus(
      prometheus.url,
      'calcburst_request_duration_seconds_bucket{instance="labels-1",le="0.025"}',
    );
    expect(fast[0]?.value[1]).toBe("1");
  });

  it("anchors a new series at 0 at the previous flush, so increase() counts its first requests", async () => {
    // Prepare: an instance that started a minute ago and served 5 requests since.
    const started = Date.now() - 60_000;
    let now = started;
    const { metrics, flusher } = flusherFor("anchor-1", { nowMs: () => now });
    metrics.requests.inc({ route: "GET /health", operation: "none", status: "200" }, 5);
    now = started + 30_000;

    // Act
    await flusher.flush();

    // Assess
    const samples = await fetch(
      `${prometheus.url}/api/v1/query?${new URLSearchParams({ query: 'calcburst_requests_total{instance="anchor-1"}[5m]' })}`,
    ).then((response) => response.json() as Promise<{ data: { result: { values: [number, string][] }[] } }>);
    const values = samples.data.result[0]?.values ?? [];
    expect(values.map(([at, value]) => [at * 1000, value])).toEqual([
      [started, "0"],
      [started + 30_000, "5"],
    ]);
  });

  it("adds up many short-lived instances with sum()", async () => {
    // Prepare
    const instances = ["sum-1", "sum-2", "sum-3"].map((name) => flusherFor(name));
    for (const [index, { metrics }] of instances.entries()) metrics.coldStarts.inc(index + 1);

    // Act
    await Promise.all(instances.map(({ flusher }) => flusher.flush()));

    // Assess
    const total = await queryPrometheus(prometheus.url, 'sum(calcburst_cold_starts_total{instance=~"sum-.*"})');
    expect(total[0]?.value[1]).toBe("6");
  });

  it("ends every series with a staleness marker at shutdown, so a retired instance drops out at once", async () => {
    // Prepare
    const { metrics, flusher } = flusherFor("retired-1");
    metrics.coldStarts.inc();
    await flusher.flush();
    expect(await queryPrometheus(prometheus.url, 'calcburst_cold_starts_total{instance="retired-1"}')).toHaveLength(1);

    // Act
    const outcome = await flusher.shutdown();

    // Assess: the final values arrived, and the instant query no longer sees the series.
    expect(outcome).toMatchObject({ status: "sent" });
    expect(await queryPrometheus(prometheus.url, 'calcburst_cold_starts_total{instance="retired-1"}')).toEqual([]);
    const last = await queryPrometheus(
      prometheus.url,
      'max_over_time(calcburst_cold_starts_total{instance="retired-1"}[5m])',
    );
    expect(last[0]?.value[1]).toBe("1");
  });

  it("flushes at most once per interval", async () => {
    // Prepare
    let now = Date.now() - 20_000;
    const { flusher } = flusherFor("interval-1", { nowMs: () => now, intervalMs: 10_000 });

    // Act
    now += 5000;
    const early = await flusher.flushIfDue();
    now += 5000;
    const due = await flusher.flushIfDue();
    const again = await flusher.flushIfDue();

    // Assess
    expect([early.status, due.status, again.status]).toEqual(["not-due", "sent", "not-due"]);
  });

  it("gives up on a receiver that does not answer within its budget, without throwing", async () => {
    // Prepare
    const hung = await hungServer();
    const failures: string[] = [];
    const { metrics, flusher } = flusherFor("hung-1", {
      url: hung.url,
      budgetMs: 50,
      onFailure: (message) => failures.push(message),
    });
    metrics.coldStarts.inc();

    // Act
    const started = performance.now();
    const outcome = await flusher.flush();
    const tookMs = performance.now() - started;

    // Assess
    hung.server.closeAllConnections();
    hung.server.close();
    expect(hung.requests()).toBe(1);
    expect(outcome).toMatchObject({ status: "failed", error: "no answer within the 50 ms budget" });
    expect(tookMs).toBeLessThan(1000);
    expect(failures).toEqual([`metrics flush to ${hung.url} failed: no answer within the 50 ms budget`]);
  });

  it("reports a receiver's refusal and keeps going", async () => {
    // Prepare: a Prometheus without the receiver answers 404.
    const { metrics, flusher } = flusherFor("refused-1", { url: `${prometheus.url}/api/v1/not-a-receiver` });
    metrics.coldStarts.inc();

    // Act
    const outcome = await flusher.flush();

    // Assess
    expect(outcome).toMatchObject({ status: "failed" });
    expect(outcome.status === "failed" && outcome.error).toMatch(/^HTTP 404/);
  });

  it("pushes the bundle's metrics after an invocation and answers the request either way", async () => {
    // Prepare: the built bundle, configured as the Pulumi program configures it.
    const bundle = loadBundle({
      TABLE_NAME: TEST_TABLE,
      AWS_REGION: TEST_REGION,
      DYNAMODB_ENDPOINT: database.endpoint,
      LOG_LEVEL: "silent",
      CALCBURST_REMOTE_WRITE_URL: receiver(),
      CALCBURST_METRICS_FLUSH_INTERVAL_MS: "0",
    }) as ReturnType<typeof loadBundle> & { shutdown(): Promise<void> };

    // Act
    const created = await bundle.handler(postJson("/v1/calculations", { operation: "add", operands: [2, 2] }));
    const health = await bundle.handler(get("/health"));

    // Assess
    expect([created.statusCode, health.statusCode]).toEqual([201, 200]);
    const series = await queryPrometheus(
      prometheus.url,
      // The bundle names its instance with 12 hex digits; the tests above use readable names.
      `calcburst_requests_total{region="${TEST_REGION}",instance=~"[0-9a-f]{12}",route="POST /v1/calculations"}`,
    );
    expect(series).toHaveLength(1);
    expect(series[0]?.metric).toMatchObject({ job: "calcburst-function", status: "201" });
    await bundle.shutdown();
    for (const name of ["CALCBURST_REMOTE_WRITE_URL", "CALCBURST_METRICS_FLUSH_INTERVAL_MS"]) delete process.env[name];
  });
});
