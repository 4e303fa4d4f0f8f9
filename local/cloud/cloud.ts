import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { DEFAULT_HEALTH_CACHE_MS, DEFAULT_METRICS_FLUSH_INTERVAL_MS } from "../../shared/env.js";
import type { LiveAlias, RegionFunction } from "../../shared/function-versions.js";
import { type StackConfig, scaledMs } from "../../shared/stack-config.js";
import type { MajoritySettings } from "../data/majority.js";
import { freePort, startDynamoDbLocal } from "../dynamodb/launcher.js";
import { countItems, ensureCalculationsTable } from "../dynamodb/tables.js";
import type { MonitoringBinaries } from "../monitoring/binaries.js";
import { LocalMonitoring } from "../monitoring/monitoring.js";
import { checkBundle, FunctionVersions, VersionOrderError } from "../release/versions.js";
import type { ReplicationStatus } from "../replicator/replicator.js";
import { HealthChecks, type RegionHealth } from "../router/health-checks.js";
import { LatencyResolver } from "../router/resolver.js";
import { type Router, startRouter } from "../router/server.js";
import { type FaultMode, type FaultTarget, injectFault, liftFaults } from "./faults.js";
import type { RegionSettings, RegionStats, ReplicatorSettings, WitnessSettings } from "./ipc.js";
import { NodeChild } from "./node-child.js";
import { waitForRegions } from "./ready.js";
import type { CloudState, CloudStatus } from "./state.js";
import { type SupervisedChild, Supervisor } from "./supervisor.js";

export { FAULT_MODES, type FaultMode } from "./faults.js";
export type { CloudState, CloudStatus } from "./state.js";
export { VersionOrderError };

export const TABLE_NAME = "calcburst-calculations";

/**
 * How long a region's /health may take to answer a check. Route 53 allows 4 s to connect and 2 s
 * for the answer; on loopback connecting is instant, so the answer's 2 s is the floor. A time
 * scale shrinks the interval but not the machine's speed, so the timeout is never scaled below
 * that floor: it still fits the function's 1 s data check, so a slow data layer shows as a 503
 * and a busy machine is not taken for a dead region. Above it, the timeout follows the interval
 * up to Route 53's 4 s. Checks never overlap (router/health-checks.ts).
 */
export const HEALTH_CHECK_TIMEOUT_MS = { min: 2000, max: 4000 };
/** How long `npm start` waits for the cloud to be ready, unless --ready-timeout says otherwise. */
export const DEFAULT_READY_TIMEOUT_MS = 180_000;
/**
 * How long the replicator waits before reading a stream again after a read that found nothing
 * (while records flow it reads again at once). DynamoDB Streams allows 5 GetRecords a second per
 * shard and Lambda's stream pollers read 4 times a second. At 20 ms an idle cloud used 65% of a
 * core (the replicator 24%, each DynamoDB Local 19%, measured over 10 s), which on a 2-core
 * machine running several clouds starved the surviving region of a failover into failing its
 * health checks too.
 */
const REPLICATOR_POLL_MS = 200;
/** A scaled metrics flush interval stays above this, so a flush never runs on every request. */
const MIN_FLUSH_INTERVAL_MS = 200;
/**
 * The faults the witness takes: it has no API, no DynamoDB Local and no /health, so only being
 * cut off from the regions (isolate) and dying (crash: SIGKILL, restarted by the supervisor with
 * the versions it had on disk) mean anything for it.
 */
export const WITNESS_FAULT_MODES: readonly FaultMode[] = ["isolate", "crash"];

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
   * How long the start may take, at most (each process's wait also ends early if it stalls);
   * a restart by the supervisor gets as long.
   */
  readyTimeoutMs?: number;
  /**
   * Start with empty tables: the data a previous run left in the state folder is deleted. By
   * default it is kept, as a region keeps its storage.
   */
  freshData?: boolean;
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
  /** DynamoDB Local's port: the same after every restart, so its clients need not change. */
  dynamodbPort: number;
  dynamodb: SupervisedChild;
  /** Where the region's data endpoint (local/data/), hosted in its API process, listens. */
  dataPort: number;
  api: NodeChild;
  apiProcess: SupervisedChild;
  faults: Set<FaultMode>;
  /** When the oldest fault still in place was injected. */
  faultSince: string | null;
}

/** The witness of a two-region MRSC table: a process of its own (local/data/witness-main.ts). */
interface WitnessRuntime {
  region: string;
  port: number;
  versionsFile: string;
  child: NodeChild;
  process: SupervisedChild;
  faults: Set<FaultMode>;
  faultSince: string | null;
}

/**
 * The local two-region cloud: per region a DynamoDB Local and an API process, one replicator
 * between them, the witness of a two-region MRSC table when the stack has one, and the router in
 * this process. Wires them together, injects faults and writes
 * the state file that the CLI and the tests read; the supervisor (supervisor.ts) keeps the
 * children running.
 */
export class LocalCloud {
  private readonly regions = new Map<string, RegionRuntime>();
  private witness: WitnessRuntime | undefined;
  private readonly supervisor: Supervisor;
  private replicator: NodeChild | undefined;
  private replicatorProcess: SupervisedChild | undefined;
  private replicatorPort = 0;
  private router: Router | undefined;
  private checks: HealthChecks | undefined;
  private resolver: LatencyResolver | undefined;
  private controlUrl = "";
  private monitoring: LocalMonitoring | undefined;
  private shuttingDown = false;
  private dataKept = false;
  /** When the start's --ready-timeout runs out: every wait of the start, readiness included, shares it. */
  private readyDeadline = 0;
  private readonly startedAt = new Date().toISOString();
  private readonly progress: (line: string) => void;
  /** Each region's published versions and `live` alias, kept in the state folder. */
  private readonly functions: FunctionVersions;

  constructor(readonly options: LocalCloudOptions) {
    this.progress = options.progress ?? (() => undefined);
    this.functions = new FunctionVersions(path.join(options.stateDirectory, "functions"));
    this.supervisor = new Supervisor({
      log: this.progress,
      onChange: () => this.writeState(),
      readyTimeoutMs: this.readyTimeoutMs,
    });
  }

  get readyTimeoutMs(): number {
    return this.options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  }

  private remainingReadyMs(): number {
    return Math.max(1000, this.readyDeadline - Date.now());
  }

  get stateFile(): string {
    return path.join(this.options.stateDirectory, "state.json");
  }

  get logDirectory(): string {
    return path.join(this.options.stateDirectory, "logs");
  }

  /** Each region's DynamoDB Local keeps its tables here, like a region's storage. */
  get dataDirectory(): string {
    return path.join(this.options.stateDirectory, "data");
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

  private dynamodbEndpoint(runtime: Pick<RegionRuntime, "dynamodbPort">): string {
    return `http://127.0.0.1:${runtime.dynamodbPort}`;
  }

  private regionSettings(
    runtime: Pick<RegionRuntime, "region" | "port" | "metricsPort" | "dynamodbPort" | "dataPort" | "faults">,
  ): RegionSettings {
    const { config, timeScale } = this.options;
    const upstream = this.dynamodbEndpoint(runtime);
    return {
      region: runtime.region,
      port: runtime.port,
      function: this.functions.routing(runtime.region),
      tableName: TABLE_NAME,
      dynamodbEndpoint: this.options.bypassDataEndpoint ? upstream : `http://127.0.0.1:${runtime.dataPort}`,
      ...(!this.options.bypassDataEndpoint && {
        dataEndpoint: { port: runtime.dataPort, upstream, ...this.majoritySettings(runtime) },
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

  /** MRSC: the other regions' data endpoints, which every write and strongly consistent read needs a majority of. */
  private majoritySettings(runtime: Pick<RegionRuntime, "region" | "faults">): { majority?: MajoritySettings } {
    if (this.options.config.tableConsistency !== "MRSC") return {};
    const peers = [...this.regions.values()]
      .filter((other) => other.region !== runtime.region)
      .map((other) => ({ region: other.region, url: `http://127.0.0.1:${other.dataPort}` }));
    // Two regions and the witness: it is the third lease-holder, so a majority is two of three.
    if (this.witness !== undefined) {
      peers.push({ region: this.witness.region, url: `http://127.0.0.1:${this.witness.port}` });
    }
    return { majority: { peers, tableName: TABLE_NAME, isolated: runtime.faults.has("isolate") } };
  }

  private remoteWrite(region: string): { remoteWriteUrl?: string } {
    const url = this.monitoring?.state?.regional[region]?.remoteWrite;
    return url === undefined ? {} : { remoteWriteUrl: url };
  }

  private replicatorSettings(): ReplicatorSettings {
    return {
      port: this.replicatorPort,
      // MRSC replicates synchronously in the data endpoints: nothing is left to replicate later.
      replicas: (this.options.config.tableConsistency === "MRSC" ? [] : [...this.regions.values()]).map((runtime) => ({
        region: runtime.region,
        endpoint: this.dynamodbEndpoint(runtime),
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

  /**
   * Keeps what an earlier run left (each region's tables and the replicator's checkpoints, which
   * belong together: a checkpoint names a position in the very stream kept with the tables), or
   * deletes both with `freshData`. A checkpoint whose stream is gone is ignored by the replicator.
   */
  private prepareData(): void {
    if (this.options.freshData) {
      rmSync(this.dataDirectory, { recursive: true, force: true });
      rmSync(path.join(this.options.stateDirectory, "replicator"), { recursive: true, force: true });
    }
    this.dataKept = this.options.config.regions.some((region) => existsSync(path.join(this.dataDirectory, region)));
  }

  private addRegion(region: string, ports: Pick<RegionRuntime, "port" | "metricsPort" | "dynamodbPort" | "dataPort">) {
    const api = new NodeChild({
      name: `${region} API`,
      script: path.join(__dirname, "..", "region", "main.ts"),
      settings: () => this.regionSettings(runtime),
      logFile: path.join(this.logDirectory, `api-${region}.log`),
    });
    const name = `${region} DynamoDB Local`;
    const runtime: RegionRuntime = {
      region,
      ...ports,
      dynamodb: this.supervisor.add({
        name,
        launch: async (readyTimeoutMs) => {
          const started = await startDynamoDbLocal({
            name,
            port: ports.dynamodbPort,
            dataDirectory: path.join(this.dataDirectory, region),
            readyTimeoutMs,
            logFile: path.join(this.logDirectory, `dynamodb-${region}.log`),
          });
          return { pid: started.pid, exitStatus: started.exitStatus, stop: started.stop };
        },
      }),
      api,
      apiProcess: this.supervisor.add(api),
      faults: new Set(),
      faultSince: null,
    };
    this.regions.set(region, runtime);
  }

  /**
   * The witness: a process of its own rather than part of this one, so that it answers the
   * regions on its own event loop (this process also proxies every client request, in the
   * router), it can be killed and restarted like any replica (its leases then lapse, its versions
   * stay on disk), and a fault that freezes this process does not silently take the majority's
   * third member with it.
   */
  private addWitness(region: string, port: number): void {
    const versionsFile = path.join(this.dataDirectory, `witness-${region}`, "versions.jsonl");
    const faults = new Set<FaultMode>();
    const child = new NodeChild({
      name: `${region} witness`,
      script: path.join(__dirname, "..", "data", "witness-main.ts"),
      settings: (): WitnessSettings => ({
        region,
        port,
        tableName: TABLE_NAME,
        versionsFile,
        isolated: faults.has("isolate"),
        regions: [...this.regions.values()].map((runtime) => ({
          region: runtime.region,
          url: `http://127.0.0.1:${runtime.dataPort}`,
        })),
      }),
      logFile: path.join(this.logDirectory, `witness-${region}.log`),
    });
    this.witness = {
      region,
      port,
      versionsFile,
      child,
      process: this.supervisor.add(child),
      faults,
      faultSince: null,
    };
  }

  async start(): Promise<void> {
    const { config } = this.options;
    if (config.tableConsistency === "MRSC" && this.options.bypassDataEndpoint === true) {
      throw new Error(
        "MRSC lives in the data endpoints: the benchmark mode that bypasses them cannot run an MRSC stack",
      );
    }
    this.readyDeadline = Date.now() + this.readyTimeoutMs;
    const remainingMs = () => this.remainingReadyMs();
    // Each run starts with empty logs; a restarted child appends to its own.
    rmSync(this.logDirectory, { recursive: true, force: true });
    mkdirSync(this.logDirectory, { recursive: true });
    this.prepareData();

    for (const region of config.regions) {
      this.addRegion(region, {
        port: await freePort(),
        metricsPort: await freePort(),
        dynamodbPort: await freePort(),
        dataPort: await freePort(),
      });
    }
    if (config.tableConsistency === "MRSC" && config.tableWitnessRegion !== undefined) {
      this.addWitness(config.tableWitnessRegion, await freePort());
    }
    this.replicatorPort = await freePort();
    this.writeState();

    this.progress(`starting DynamoDB Local for ${config.regions.join(", ")} (data in ${this.dataDirectory}) ...`);
    const witness = this.witness;
    const databases = await Promise.allSettled([
      ...[...this.regions.values()].map((one) => one.dynamodb.start(remainingMs())),
      // The witness needs no table, only its folder: it starts beside the databases.
      ...(witness === undefined
        ? []
        : [
            witness.process
              .start(remainingMs())
              .then(() =>
                this.progress(
                  `  ${witness.region}: the table's witness http://127.0.0.1:${witness.port} (pid ${witness.process.pid}), a lease-holder with no table; versions in ${witness.versionsFile}`,
                ),
              ),
          ]),
    ]);
    const failed = databases.find((result) => result.status === "rejected");
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
    await Promise.all([
      ...[...this.regions.values()].map(async (runtime) => {
        const endpoint = this.dynamodbEndpoint(runtime);
        await ensureCalculationsTable(endpoint, runtime.region, TABLE_NAME);
        const items = await countItems(endpoint, runtime.region, TABLE_NAME);
        this.progress(
          `  ${runtime.region}: DynamoDB Local ${endpoint} (pid ${runtime.dynamodb.pid}), table ${TABLE_NAME}, ${items - 1} item${items - 1 === 1 ? "" : "s"}${this.dataKept ? " kept from the previous run" : ""}`,
        );
      }),
      this.startMonitoring(remainingMs()),
    ]);

    if (this.options.bypassDataEndpoint) {
      this.progress("benchmark mode: the functions write to DynamoDB Local directly, without the data endpoints");
    }

    this.deployStartBundle();
    this.progress("starting the regional APIs (API Gateway + Lambda emulation) ...");
    this.progress("starting the replicator (the global table's streams, last applied write wins) ...");
    this.replicator = new NodeChild({
      name: "replicator",
      script: path.join(__dirname, "..", "replicator", "main.ts"),
      settings: () => this.replicatorSettings(),
      logFile: path.join(this.logDirectory, "replicator.log"),
    });
    const replicatorProcess = this.supervisor.add(this.replicator);
    this.replicatorProcess = replicatorProcess;
    // Together: the replicator reads and writes the tables directly, never through the APIs, so
    // its start (about 1.5 s on a quiet machine, most of it loading modules) need not wait for
    // theirs.
    await Promise.all([
      ...[...this.regions.values()].map(async (runtime) => {
        await runtime.apiProcess.start(remainingMs());
        this.progress(`  ${runtime.region}: API http://127.0.0.1:${runtime.port} (pid ${runtime.apiProcess.pid})`);
      }),
      (async () => {
        await replicatorProcess.start(remainingMs());
        this.progress(`  replicator http://127.0.0.1:${this.replicatorPort} (pid ${replicatorProcess.pid})`);
      })(),
    ]);

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
      `router ${this.router.url}: health checks every ${intervalMs} ms (timeout ${timeoutMs} ms, never overlapping), threshold ${failureThreshold}, record TTL ${this.recordTtlMs} ms` +
        (this.options.timeScale !== 1 ? ` (time scale ${this.options.timeScale})` : ""),
    );
  }

  /** Prometheus per region, the global one and Alertmanager, before the functions that push to them. */
  private async startMonitoring(readyTimeoutMs: number): Promise<void> {
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
      supervise: (definition) => this.supervisor.add(definition),
      readyTimeoutMs,
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

  /**
   * The cloud serves the bundle it was started with, all of it, as the first `pulumi up` of a
   * stack does: it is published (or found: the same code as the newest version) and `live`
   * points at it. Earlier versions stay, so the numbers go on counting.
   */
  private deployStartBundle(): void {
    for (const region of this.regions.keys()) {
      const { version } = this.functions.publish(region, this.options.bundlePath);
      this.functions.setAlias(region, { version });
      this.progress(`  ${region}: live → version ${version} (${this.options.bundlePath})`);
    }
  }

  /** Every region's published versions and `live` alias. */
  functionVersions(): Record<string, RegionFunction | undefined> {
    return Object.fromEntries([...this.regions.keys()].map((region) => [region, this.functions.describe(region)]));
  }

  /** Publishes the bundle as a new version in every region, once it has been seen to load. */
  async publish(bundle: string): Promise<Record<string, string>> {
    const [first] = this.regions.values();
    if (first === undefined) throw new Error("the cloud has no region yet");
    await checkBundle(bundle, this.regionSettings(first));
    const versions: Record<string, string> = {};
    for (const region of this.regions.keys()) {
      versions[region] = this.functions.publish(region, bundle).version;
      this.progress(`${region}: published ${bundle} as version ${versions[region]}`);
    }
    return versions;
  }

  /**
   * Moves the region's `live` alias. Kept first, then ordered to the running API: an API that is
   * down (a fault, a restart) starts with the alias from its settings.
   */
  async setAlias(region: string, alias: LiveAlias): Promise<LiveAlias> {
    if (!this.regions.has(region)) {
      throw new VersionOrderError(this.notARegion(region));
    }
    const runtime = this.runtime(region);
    this.functions.setAlias(region, alias);
    const described =
      alias.additionalVersion === undefined
        ? `version ${alias.version}`
        : `version ${alias.version}, ${alias.weight} to version ${alias.additionalVersion}`;
    this.progress(`${region}: live → ${described}`);
    if (runtime.apiProcess.pid !== undefined) {
      const answer = await runtime.api
        .request({ type: "set-alias", routing: this.functions.routing(region) }, 10_000)
        .catch((error: Error) => ({ error: error.message }));
      if (answer.error !== undefined) {
        throw new Error(
          `${region} keeps the new alias for its next start, but its running API did not take it: ${answer.error}`,
        );
      }
    }
    return alias;
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
      throw new Error(this.notARegion(region));
    }
    return runtime;
  }

  private notARegion(region: string): string {
    const witness = this.witness === undefined ? "" : `, witness ${this.witness.region}`;
    const regions = `${this.options.stack} (${[...this.regions.keys()].join(", ")}${witness})`;
    return region === ""
      ? `region is required: one of stack ${regions}`
      : `${region} is not a region of stack ${regions}`;
  }

  /**
   * Resolves once every region answers `/health` 200 through the router's regional names and the
   * router's own checks pass, and arms the alerts then; fails after `timeoutMs` saying what each
   * region last answered.
   */
  async waitUntilReady(timeoutMs = this.remainingReadyMs()): Promise<void> {
    await waitForRegions({
      routerUrl: this.routerUrl,
      regions: [...this.regions.keys()],
      checks: () => this.healthChecks(),
      requestTimeoutMs: this.healthCheckSettings.timeoutMs,
      timeoutMs,
      progress: this.progress,
    });
    if (this.monitoring !== undefined) {
      await this.monitoring.armAlerts();
      this.progress("  alerts armed: the global Prometheus evaluates them from now on");
    }
  }

  private faultTarget(runtime: RegionRuntime): FaultTarget {
    return {
      region: runtime.region,
      api: runtime.api,
      apiProcess: runtime.apiProcess,
      dynamodb: runtime.dynamodb,
      replicator: this.replicator,
      readyTimeoutMs: this.readyTimeoutMs,
    };
  }

  async fail(region: string, mode: FaultMode): Promise<string> {
    if (this.witness !== undefined && region === this.witness.region) return this.failWitness(this.witness, mode);
    const runtime = this.runtime(region);
    if (runtime.faults.has(mode)) return `${region} already has the ${mode} fault`;
    runtime.faults.add(mode);
    const done = await injectFault(this.faultTarget(runtime), mode);
    runtime.faultSince ??= new Date().toISOString();
    this.writeState();
    return done;
  }

  /** A fault of the witness: cut off from both regions (they keep a majority together), or killed. */
  private async failWitness(witness: WitnessRuntime, mode: FaultMode): Promise<string> {
    const { region } = witness;
    if (!WITNESS_FAULT_MODES.includes(mode)) {
      throw new Error(
        `${region} holds the table's witness, which has no API, no DynamoDB Local and no /health: the ${mode} fault does not apply to it; use --mode ${WITNESS_FAULT_MODES.join(" or ")}`,
      );
    }
    if (witness.faults.has(mode)) return `${region}'s witness already has the ${mode} fault`;
    witness.faults.add(mode);
    let done: string;
    if (mode === "isolate") {
      if (witness.process.pid !== undefined) await witness.child.request({ type: "set-isolated", isolated: true });
      done = `${region}'s witness is cut off from the regions; the regions still form a majority together`;
    } else {
      const pid = witness.process.signal("SIGKILL");
      done =
        pid === undefined
          ? `${region}'s witness is not running (it is being restarted); nothing to kill`
          : `${region}'s witness (pid ${pid}) is killed with SIGKILL; the supervisor restarts it with the versions it had on disk`;
    }
    witness.faultSince ??= new Date().toISOString();
    this.writeState();
    return done;
  }

  private async restoreWitness(witness: WitnessRuntime): Promise<string> {
    const faults = new Set(witness.faults);
    witness.faults.clear();
    witness.faultSince = null;
    const restored: string[] = [];
    if (faults.has("crash")) {
      await witness.process.waitUntilRunning(this.readyTimeoutMs);
      restored.push(`witness is back (pid ${witness.process.pid}), restarted by the supervisor`);
    }
    if (faults.has("isolate")) {
      if (witness.process.pid !== undefined) await witness.child.request({ type: "set-isolated", isolated: false });
      restored.push("witness reconnected");
    }
    this.writeState();
    return restored.length === 0
      ? `${witness.region}'s witness had no fault to restore`
      : `${witness.region}: ${restored.join(", ")}`;
  }

  async restore(region: string): Promise<string> {
    if (this.witness !== undefined && region === this.witness.region) return this.restoreWitness(this.witness);
    const runtime = this.runtime(region);
    // Cleared first: the settings of a restarted API and the router read the faults.
    const faults = new Set(runtime.faults);
    runtime.faults.clear();
    runtime.faultSince = null;
    const restored = await liftFaults(this.faultTarget(runtime), faults);
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
      control: { url: this.controlUrl, orderTimeoutMs: this.readyTimeoutMs },
      healthCheck: this.healthCheckSettings,
      recordTtlMs: this.recordTtlMs,
      regions: Object.fromEntries(
        [...this.regions.values()].map((runtime) => [
          runtime.region,
          {
            api: { url: `http://127.0.0.1:${runtime.port}`, pid: runtime.apiProcess.pid ?? null },
            dynamodb: {
              endpoint: this.dynamodbEndpoint(runtime),
              pid: runtime.dynamodb.pid ?? null,
              dataDirectory: path.join(this.dataDirectory, runtime.region),
            },
            data: {
              endpoint: `http://127.0.0.1:${runtime.dataPort}`,
              pid: this.options.bypassDataEndpoint ? null : (runtime.apiProcess.pid ?? null),
            },
            faults: [...runtime.faults],
            faultSince: runtime.faultSince,
          },
        ]),
      ),
      replicator: { url: `http://127.0.0.1:${this.replicatorPort}`, pid: this.replicatorProcess?.pid ?? null },
      ...(this.witness !== undefined && {
        witness: {
          region: this.witness.region,
          url: `http://127.0.0.1:${this.witness.port}`,
          pid: this.witness.process.pid ?? null,
          versionsFile: this.witness.versionsFile,
          faults: [...this.witness.faults],
          faultSince: this.witness.faultSince,
        },
      }),
      monitoring:
        this.monitoring?.state !== undefined
          ? { ...this.monitoring.state, pids: this.monitoring.pids() }
          : { disabled: "disabled" in this.options.monitoring ? this.options.monitoring.disabled : "not started yet" },
      processes: this.supervisor.status(),
      data: { kept: this.dataKept, directory: this.dataDirectory },
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
      functions[runtime.region] =
        runtime.apiProcess.pid !== undefined
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
    this.supervisor.shutdown();
    this.checks?.stop();
    await this.router?.close().catch(() => undefined);
    await this.replicatorProcess?.stop().catch(() => undefined);
    await Promise.all([
      ...[...this.regions.values()].map((runtime) => runtime.apiProcess.stop().catch(() => undefined)),
      this.witness?.process.stop().catch(() => undefined),
    ]);
    await Promise.all([...this.regions.values()].map((runtime) => runtime.dynamodb.stop().catch(() => undefined)));
    await this.monitoring?.stop().catch(() => undefined);
    rmSync(this.stateFile, { force: true });
  }
}
