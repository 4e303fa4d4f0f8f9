import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { DEFAULT_HEALTH_CACHE_MS, DEFAULT_METRICS_FLUSH_INTERVAL_MS } from "../../shared/env.js";
import { type StackConfig, scaledMs } from "../../shared/stack-config.js";
import { type DynamoDbLocal, freePort, startDynamoDbLocal } from "../dynamodb/launcher.js";
import { ensureCalculationsTable } from "../dynamodb/tables.js";
import type { MonitoringBinaries } from "../monitoring/binaries.js";
import { LocalMonitoring, type MonitoringState } from "../monitoring/monitoring.js";
import type { ReplicationStatus } from "../replicator/replicator.js";
import { HealthChecks, type RegionHealth } from "../router/health-checks.js";
import { LatencyResolver } from "../router/resolver.js";
import { type Router, startRouter, TARGET_REGION_HEADER } from "../router/server.js";
import type { RegionSettings, RegionStats, ReplicatorSettings } from "./ipc.js";
import { NodeChild } from "./node-child.js";

export const TABLE_NAME = "calcburst-calculations";
export const FAULT_MODES = ["api", "data", "health", "isolate"] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

/** Route 53 waits 4 s for a connection and 2 s for the answer; scaled runs keep at least 1 s. */
const HEALTH_CHECK_TIMEOUT_MS = { max: 4000, min: 1000 };
const REPLICATOR_POLL_MS = 20;
const RESTART_DELAY_MS = 250;
/** A scaled metrics flush interval stays above this, so a flush never runs on every request. */
const MIN_FLUSH_INTERVAL_MS = 200;

export interface LocalCloudOptions {
  stack: string;
  config: StackConfig;
  /** Shrinks the health-check interval, the record TTL and the function's health cache. */
  timeScale: number;
  routerPort: number;
  stateDirectory: string;
  bundlePath: string;
  logLevel?: string;
  progress?: (line: string) => void;
  /** The monitoring binaries, or why the cloud runs without monitoring. */
  monitoring: { binaries: MonitoringBinaries } | { disabled: string };
  /**
   * For the benchmark of the data endpoint's cost only: the functions talk to DynamoDB Local
   * directly and the replicator stamps writes when it reads them from the stream, so
   * replication costs the same but conflicts no longer resolve as a global table's do.
   */
  bypassDataEndpoint?: boolean;
}

interface RegionRuntime {
  region: string;
  port: number;
  /** The region's platform metrics (throttles), scraped by its Prometheus. */
  metricsPort: number;
  dynamodb: DynamoDbLocal;
  /** Where the region's data endpoint (local/data/), hosted in its API process, listens. */
  dataPort: number;
  api: NodeChild;
  faults: Set<FaultMode>;
  /** When the oldest fault still in place was injected. */
  faultSince: string | null;
}

export interface ProcessInfo {
  name: string;
  pid: number | null;
  port: number | null;
  url: string | null;
}

export interface CloudState {
  stack: string;
  timeScale: number;
  startedAt: string;
  supervisor: { pid: number };
  router: { url: string };
  control: { url: string };
  healthCheck: { intervalMs: number; failureThreshold: number; timeoutMs: number };
  recordTtlMs: number;
  regions: Record<
    string,
    {
      api: { url: string; pid: number | null };
      dynamodb: { endpoint: string; pid: number };
      /**
       * What the region's function calls: the data endpoint in front of DynamoDB Local, hosted
       * in the region's API process (so its pid is the API's).
       */
      data: { endpoint: string; pid: number | null };
      faults: FaultMode[];
      faultSince: string | null;
    }
  >;
  replicator: { url: string; pid: number | null };
  /** The Prometheus servers and Alertmanager, or why there are none. */
  monitoring: (MonitoringState & { pids: number[] }) | { disabled: string };
  logs: string;
}

export interface CloudStatus {
  state: CloudState;
  health: RegionHealth[];
  routingTable: Record<string, string>;
  resolverCache: Record<string, number>;
  routedRequests: Record<string, number>;
  functions: Record<string, RegionStats | null>;
  /** The replicator's own status, or why it could not be read. */
  replication: ReplicationStatus | { error: string };
  /** Alerts Alertmanager has notified as firing. */
  alerts: { name: string; region: string | null; summary: string }[];
}

/**
 * The local two-region cloud: per region a DynamoDB Local and an API process, one replicator
 * between them, and the router in this process. Knows every child, injects faults, and writes
 * the state file that the CLI and the tests read.
 */
export class LocalCloud {
  private readonly regions = new Map<string, RegionRuntime>();
  private replicator: NodeChild | undefined;
  private replicatorPort = 0;
  private router: Router | undefined;
  private checks: HealthChecks | undefined;
  private resolver: LatencyResolver | undefined;
  private controlUrl = "";
  private monitoring: LocalMonitoring | undefined;
  private shuttingDown = false;
  private readonly startedAt = new Date().toISOString();
  private readonly progress: (line: string) => void;

  constructor(readonly options: LocalCloudOptions) {
    this.progress = options.progress ?? (() => undefined);
  }

  get stateFile(): string {
    return path.join(this.options.stateDirectory, "state.json");
  }

  get logDirectory(): string {
    return path.join(this.options.stateDirectory, "logs");
  }

  get routerUrl(): string {
    return this.router?.url ?? "";
  }

  get healthCheckSettings() {
    const intervalMs = scaledMs(this.options.config.healthCheckIntervalSeconds, this.options.timeScale);
    const timeoutMs = Math.min(HEALTH_CHECK_TIMEOUT_MS.max, Math.max(HEALTH_CHECK_TIMEOUT_MS.min, intervalMs));
    return { intervalMs, failureThreshold: this.options.config.healthCheckFailureThreshold, timeoutMs };
  }

  get recordTtlMs(): number {
    return scaledMs(this.options.config.recordTtlSeconds, this.options.timeScale);
  }

  private regionSettings(
    runtime: Pick<RegionRuntime, "region" | "port" | "metricsPort" | "dynamodb" | "dataPort" | "faults">,
  ): RegionSettings {
    const { config, timeScale } = this.options;
    return {
      region: runtime.region,
      port: runtime.port,
      bundlePath: this.options.bundlePath,
      tableName: TABLE_NAME,
      dynamodbEndpoint: this.options.bypassDataEndpoint
        ? runtime.dynamodb.endpoint
        : `http://127.0.0.1:${runtime.dataPort}`,
      ...(!this.options.bypassDataEndpoint && {
        dataEndpoint: { port: runtime.dataPort, upstream: runtime.dynamodb.endpoint },
      }),
      timeoutMs: config.lambdaTimeoutSeconds * 1000,
      concurrency: config.lambdaReservedConcurrency,
      throttleRatePerSecond: config.apiThrottlingRateLimit,
      throttleBurst: config.apiThrottlingBurstLimit,
      healthCacheMs: scaledMs(DEFAULT_HEALTH_CACHE_MS / 1000, timeScale),
      ttlDays: config.tableTtlDays,
      logLevel: this.options.logLevel ?? "info",
      killSwitch: runtime.faults.has("health"),
      metricsPort: runtime.metricsPort,
      metricsFlushIntervalMs: Math.max(MIN_FLUSH_INTERVAL_MS, DEFAULT_METRICS_FLUSH_INTERVAL_MS * timeScale),
      ...this.remoteWrite(runtime.region),
    };
  }

  private remoteWrite(region: string): { remoteWriteUrl?: string } {
    const url = this.monitoring?.state?.regional[region]?.remoteWrite;
    return url === undefined ? {} : { remoteWriteUrl: url };
  }

  private replicatorSettings(): ReplicatorSettings {
    return {
      port: this.replicatorPort,
      replicas: [...this.regions.values()].map((runtime) => ({
        region: runtime.region,
        endpoint: runtime.dynamodb.endpoint,
        tableName: TABLE_NAME,
      })),
      checkpointFile: path.join(this.options.stateDirectory, "replicator", "checkpoints.json"),
      isolated: [...this.regions.values()]
        .filter((runtime) => runtime.faults.has("isolate"))
        .map(({ region }) => region),
      pollIntervalMs: REPLICATOR_POLL_MS,
      stampAtStream: this.options.bypassDataEndpoint === true,
    };
  }

  /** A child that dies unasked is restarted, as Lambda and a process supervisor would. */
  private restartLater(child: NodeChild, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.shuttingDown) return;
    this.progress(`${child.name} exited unexpectedly (${signal ?? `code ${code}`}); restarting it`);
    setTimeout(() => {
      if (this.shuttingDown) return;
      child
        .start()
        .then(() => {
          this.progress(`${child.name} restarted (pid ${child.pid})`);
          this.writeState();
        })
        .catch((error: Error) => this.progress(`${child.name} could not restart: ${error.message}`));
    }, RESTART_DELAY_MS);
  }

  async start(): Promise<void> {
    const { config } = this.options;
    // Each run starts with empty logs; a restarted child appends to its own.
    rmSync(this.logDirectory, { recursive: true, force: true });
    mkdirSync(this.logDirectory, { recursive: true });
    // A new cloud has new streams: old checkpoints would point nowhere.
    rmSync(path.join(this.options.stateDirectory, "replicator"), { recursive: true, force: true });

    this.progress(`starting DynamoDB Local for ${config.regions.join(", ")} ...`);
    const databases = await Promise.allSettled(config.regions.map(() => startDynamoDbLocal()));
    const failed = databases.find((result) => result.status === "rejected");
    if (failed !== undefined) {
      for (const result of databases) if (result.status === "fulfilled") await result.value.stop();
      throw (failed as PromiseRejectedResult).reason;
    }
    for (const [index, region] of config.regions.entries()) {
      const dynamodb = (databases[index] as PromiseFulfilledResult<DynamoDbLocal>).value;
      const runtime: RegionRuntime = {
        region,
        port: await freePort(),
        metricsPort: await freePort(),
        dataPort: await freePort(),
        dynamodb,
        faults: new Set(),
        faultSince: null,
        api: new NodeChild({
          name: `${region} API`,
          script: path.join(__dirname, "..", "region", "main.ts"),
          settings: () => this.regionSettings(runtime),
          logFile: path.join(this.logDirectory, `api-${region}.log`),
          onUnexpectedExit: (code, signal) => this.restartLater(runtime.api, code, signal),
        }),
      };
      this.regions.set(region, runtime);
    }
    this.replicatorPort = await freePort();
    this.writeState();
    await Promise.all([
      ...[...this.regions.values()].map(async ({ region, dynamodb }) => {
        await ensureCalculationsTable(dynamodb.endpoint, region, TABLE_NAME);
        this.progress(`  ${region}: DynamoDB Local ${dynamodb.endpoint} (pid ${dynamodb.pid}), table ${TABLE_NAME}`);
      }),
      this.startMonitoring(),
    ]);

    if (this.options.bypassDataEndpoint) {
      this.progress("benchmark mode: the functions write to DynamoDB Local directly, without the data endpoints");
    }

    this.progress("starting the regional APIs (API Gateway + Lambda emulation) ...");
    await Promise.all(
      [...this.regions.values()].map(async (runtime) => {
        await runtime.api.start();
        this.progress(`  ${runtime.region}: API http://127.0.0.1:${runtime.port} (pid ${runtime.api.pid})`);
      }),
    );

    this.progress("starting the replicator (the global table's streams, last applied write wins) ...");
    const replicator = new NodeChild({
      name: "replicator",
      script: path.join(__dirname, "..", "replicator", "main.ts"),
      settings: () => this.replicatorSettings(),
      logFile: path.join(this.logDirectory, "replicator.log"),
      onUnexpectedExit: (code, signal) => this.restartLater(replicator, code, signal),
    });
    this.replicator = replicator;
    await replicator.start();
    this.progress(`  replicator http://127.0.0.1:${this.replicatorPort} (pid ${replicator.pid})`);

    const { intervalMs, failureThreshold, timeoutMs } = this.healthCheckSettings;
    this.checks = new HealthChecks({
      regions: config.regions.map((region) => ({ region, url: () => `http://127.0.0.1:${this.runtime(region).port}` })),
      intervalMs,
      failureThreshold,
      timeoutMs,
      reachable: (region) => !this.isIsolated(region),
      onChange: (region, healthy, detail) =>
        this.progress(`router: ${region} is now ${healthy ? "healthy" : `unhealthy (${detail})`}`),
    });
    this.resolver = new LatencyResolver({
      regions: config.regions,
      latencyMs: config.localClientLatencyMs,
      ttlMs: this.recordTtlMs,
      isHealthy: (region) => this.checks?.isHealthy(region) ?? false,
    });
    this.router = await startRouter({
      resolver: this.resolver,
      defaultLocation: config.localDefaultClientLocation,
      regions: config.regions,
      port: this.options.routerPort,
      regionUrl: (region) => (this.isIsolated(region) ? undefined : `http://127.0.0.1:${this.runtime(region).port}`),
    }).catch((error: NodeJS.ErrnoException) => {
      throw error.code === "EADDRINUSE"
        ? new Error(`port ${this.options.routerPort} is in use: pass another with npm start -- --port <n>`)
        : error;
    });
    this.checks.start();
    this.progress(
      `router ${this.router.url}: health checks every ${intervalMs} ms, threshold ${failureThreshold}, record TTL ${this.recordTtlMs} ms` +
        (this.options.timeScale !== 1 ? ` (time scale ${this.options.timeScale})` : ""),
    );
  }

  /** Prometheus per region, the global one and Alertmanager, before the functions that push to them. */
  private async startMonitoring(): Promise<void> {
    if (!("binaries" in this.options.monitoring)) return;
    this.progress(
      "starting monitoring: a Prometheus and a blackbox exporter per region, the global Prometheus, Alertmanager ...",
    );
    const monitoring = new LocalMonitoring({
      config: this.options.config,
      timeScale: this.options.timeScale,
      directory: path.join(this.options.stateDirectory, "monitoring"),
      logDirectory: this.logDirectory,
      binaries: this.options.monitoring.binaries,
      regions: [...this.regions.values()].map((runtime) => ({
        region: runtime.region,
        apiUrl: `http://127.0.0.1:${runtime.port}`,
        platformAddresses: [`127.0.0.1:${runtime.metricsPort}`, `127.0.0.1:${this.replicatorPort}`],
      })),
      progress: this.progress,
    });
    this.monitoring = monitoring;
    const endpoints = await monitoring.start();
    for (const [region, urls] of Object.entries(endpoints.regional)) {
      this.progress(
        `  ${region}: Prometheus ${urls.prometheus} (remote-write receiver on), blackbox exporter ${urls.blackboxExporter}`,
      );
    }
    this.progress(`  global Prometheus ${endpoints.global.prometheus}, Alertmanager ${endpoints.alertmanager.url}`);
  }

  setControlUrl(url: string): void {
    this.controlUrl = url;
    this.writeState();
  }

  private isIsolated(region: string): boolean {
    return this.regions.get(region)?.faults.has("isolate") ?? false;
  }

  private runtime(region: string): RegionRuntime {
    const runtime = this.regions.get(region);
    if (runtime === undefined) {
      throw new Error(
        `${region} is not a region of stack ${this.options.stack} (${[...this.regions.keys()].join(", ")})`,
      );
    }
    return runtime;
  }

  /** Resolves once every region answers `/health` 200 through the router's regional names. */
  async waitUntilReady(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const pending = new Set(this.regions.keys());
    while (pending.size > 0) {
      for (const region of [...pending]) {
        const response = await fetch(`${this.routerUrl}/health`, {
          headers: { [TARGET_REGION_HEADER]: region },
          signal: AbortSignal.timeout(2000),
        }).catch(() => undefined);
        await response?.arrayBuffer();
        if (response?.status === 200 && this.checks?.isHealthy(region)) {
          pending.delete(region);
          this.progress(`  ${region}: /health 200 through the router`);
        }
      }
      if (pending.size === 0) break;
      if (Date.now() > deadline) {
        throw new Error(`not ready after ${timeoutMs / 1000} s: ${[...pending].join(", ")} did not answer /health 200`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async fail(region: string, mode: FaultMode): Promise<string> {
    const runtime = this.runtime(region);
    if (runtime.faults.has(mode)) return `${region} already has the ${mode} fault`;
    runtime.faults.add(mode);
    let done: string;
    switch (mode) {
      case "api":
        await runtime.api.stop();
        done = `${region}'s API is stopped`;
        break;
      case "data":
        // Frozen, not killed: the data survives, as a regional outage keeps durable writes.
        process.kill(runtime.dynamodb.pid, "SIGSTOP");
        done = `${region}'s DynamoDB Local (pid ${runtime.dynamodb.pid}) is frozen`;
        break;
      case "health":
        if (runtime.api.running) await this.setKillSwitch(runtime, true);
        done = `${region}'s kill switch CALCBURST_REGION_DISABLED is on`;
        break;
      case "isolate":
        await this.replicator?.request({ type: "isolate", region }).catch(() => undefined);
        done = `${region} is cut off from the router and from replication; its own API and data keep running`;
        break;
    }
    runtime.faultSince ??= new Date().toISOString();
    this.writeState();
    return done;
  }

  private async setKillSwitch(runtime: RegionRuntime, disabled: boolean): Promise<void> {
    await runtime.api.request({ type: "set-kill-switch", disabled });
  }

  async restore(region: string): Promise<string> {
    const runtime = this.runtime(region);
    // Cleared first: the settings of a restarted API and the router read the faults.
    const faults = new Set(runtime.faults);
    runtime.faults.clear();
    runtime.faultSince = null;
    const restored: string[] = [];
    if (faults.has("isolate")) {
      await this.replicator?.request({ type: "rejoin", region }).catch(() => undefined);
      restored.push("reconnected");
    }
    if (faults.has("data")) {
      process.kill(runtime.dynamodb.pid, "SIGCONT");
      restored.push("DynamoDB Local resumed");
    }
    if (faults.has("api")) {
      await runtime.api.start();
      restored.push(`API started (pid ${runtime.api.pid})`);
    } else if (faults.has("health")) {
      await this.setKillSwitch(runtime, false);
      restored.push("kill switch off");
    }
    this.writeState();
    return restored.length === 0 ? `${region} had no fault to restore` : `${region}: ${restored.join(", ")}`;
  }

  state(): CloudState {
    return {
      stack: this.options.stack,
      timeScale: this.options.timeScale,
      startedAt: this.startedAt,
      supervisor: { pid: process.pid },
      router: { url: this.routerUrl },
      control: { url: this.controlUrl },
      healthCheck: this.healthCheckSettings,
      recordTtlMs: this.recordTtlMs,
      regions: Object.fromEntries(
        [...this.regions.values()].map((runtime) => [
          runtime.region,
          {
            api: { url: `http://127.0.0.1:${runtime.port}`, pid: runtime.api.pid ?? null },
            dynamodb: { endpoint: runtime.dynamodb.endpoint, pid: runtime.dynamodb.pid },
            data: {
              endpoint: `http://127.0.0.1:${runtime.dataPort}`,
              pid: this.options.bypassDataEndpoint ? null : (runtime.api.pid ?? null),
            },
            faults: [...runtime.faults],
            faultSince: runtime.faultSince,
          },
        ]),
      ),
      replicator: { url: `http://127.0.0.1:${this.replicatorPort}`, pid: this.replicator?.pid ?? null },
      monitoring:
        this.monitoring?.state !== undefined
          ? { ...this.monitoring.state, pids: this.monitoring.pids() }
          : { disabled: "disabled" in this.options.monitoring ? this.options.monitoring.disabled : "not started yet" },
      logs: this.logDirectory,
    };
  }

  writeState(): void {
    if (this.shuttingDown) return;
    const temporary = `${this.stateFile}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(this.state(), null, 2)}\n`);
    renameSync(temporary, this.stateFile);
  }

  /** Each region as the router's health checks see it now. */
  healthChecks(): RegionHealth[] {
    return this.checks?.status() ?? [];
  }

  async status(): Promise<CloudStatus> {
    const functions: Record<string, RegionStats | null> = {};
    for (const runtime of this.regions.values()) {
      functions[runtime.region] = runtime.api.running
        ? await runtime.api
            .request({ type: "stats" }, 1000)
            .then((answer) => answer.stats ?? null)
            .catch(() => null)
        : null;
    }
    const replication = await fetch(`http://127.0.0.1:${this.replicatorPort}/status`, {
      signal: AbortSignal.timeout(2000),
    })
      .then((response) => response.json() as Promise<ReplicationStatus>)
      .catch((error: Error) => ({ error: `the replicator did not answer: ${error.message}` }));
    return {
      state: this.state(),
      health: this.healthChecks(),
      routingTable: this.resolver?.routingTable() ?? {},
      resolverCache: this.resolver?.cachedClients() ?? {},
      routedRequests: this.router?.routed() ?? {},
      functions,
      replication,
      alerts: (this.monitoring?.firingAlerts ?? []).map((alert) => ({
        name: alert.labels.alertname ?? "",
        region: alert.labels.region ?? null,
        summary: alert.annotations.summary ?? "",
      })),
    };
  }

  /** Stops every child; safe to call more than once. */
  async stop(): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.checks?.stop();
    await this.router?.close().catch(() => undefined);
    await this.replicator?.stop().catch(() => undefined);
    await Promise.all([...this.regions.values()].map((runtime) => runtime.api.stop().catch(() => undefined)));
    await Promise.all([...this.regions.values()].map((runtime) => runtime.dynamodb.stop().catch(() => undefined)));
    await this.monitoring?.stop().catch(() => undefined);
    rmSync(this.stateFile, { force: true });
  }
}
