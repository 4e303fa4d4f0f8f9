import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { stringify } from "yaml";
import { alertmanagerConfig } from "../../monitoring/alertmanager-config.js";
import { CONSOLE_FILE, CONSOLE_PATH, consoleTemplate } from "../../monitoring/console.js";
import { globalDashboard } from "../../monitoring/dashboard.js";
import {
  blackboxConfig,
  globalPrometheusConfig,
  regionalPrometheusConfig,
} from "../../monitoring/prometheus-config.js";
import { RULE_FILES, ruleFileTexts } from "../../monitoring/render.js";
import type { StackConfig } from "../../shared/stack-config.js";
import type { ChildDefinition, RunningProcess, SupervisedChild } from "../cloud/supervisor.js";
import { freePort } from "../dynamodb/launcher.js";
import { createFrontDoor } from "../http/front-door.js";
import { spawnSupervised } from "../process/supervised.js";
import type { MonitoringBinaries } from "./binaries.js";
import { reloadPrometheus, startPrometheus, waitForHttp } from "./prometheus.js";

export interface MonitoredRegion {
  region: string;
  /** The region's API, whose /health the probe asks as Route 53 would. */
  apiUrl: string;
  /** host:port of the processes that report the region's throttles and replication. */
  platformAddresses: string[];
}

export interface LocalMonitoringOptions {
  config: StackConfig;
  timeScale: number;
  /** Configs and TSDB data go here, afresh on every start. */
  directory: string;
  logDirectory: string;
  binaries: MonitoringBinaries;
  regions: MonitoredRegion[];
  progress: (line: string) => void;
  /** Takes each process under the cloud's supervision (local/cloud/supervisor.ts), which starts it. */
  supervise: (definition: ChildDefinition) => SupervisedChild;
  /** How long the first start may take, at most, while the processes make progress. */
  readyTimeoutMs: number;
}

export interface MonitoringState {
  regional: Record<string, { prometheus: string; remoteWrite: string; blackboxExporter: string }>;
  /** `console`: the CalcBurst dashboard as a Prometheus console, served where the federated series are. */
  global: { prometheus: string; console: string };
  alertmanager: { url: string };
  /** Where Alertmanager delivers; the cloud prints each notification. */
  alertWebhook: string;
}

/** One alert as Alertmanager's webhook delivers it. */
interface WebhookAlert {
  status: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

const url = (address: string) => `http://${address}`;

/** The global Prometheus's folder under the monitoring directory. */
const GLOBAL_DIRECTORY = "prometheus-global";

/**
 * The local cloud's monitoring, the same topology as on AWS: per region a Prometheus (with the
 * remote-write receiver the function pushes to) and a blackbox exporter probing /health; one
 * global Prometheus federating the regional `region:` series and evaluating the alerts; one
 * Alertmanager, whose webhook lands here and is printed. Real Debian binaries on loopback.
 */
export class LocalMonitoring {
  private readonly processes: SupervisedChild[] = [];
  private webhook: Server | undefined;
  private endpoints: MonitoringState | undefined;
  private readonly firing = new Map<string, WebhookAlert>();
  /**
   * The global Prometheus evaluates the alerts only once the cloud is ready: monitoring starts
   * before the APIs, and a region still starting is not a region that is down.
   */
  private alertsArmed = false;
  private globalConfig: ((armed: boolean) => unknown) | undefined;

  constructor(private readonly options: LocalMonitoringOptions) {}

  get state(): MonitoringState | undefined {
    return this.endpoints;
  }

  /** Alerts Alertmanager has notified as firing and not yet as resolved. */
  get firingAlerts(): WebhookAlert[] {
    return [...this.firing.values()];
  }

  /** Picks the ports, so the function's remote-write URL is known before the regions start. */
  async allocate(): Promise<MonitoringState> {
    const regional: MonitoringState["regional"] = {};
    for (const { region } of this.options.regions) {
      const prometheus = `127.0.0.1:${await freePort()}`;
      regional[region] = {
        prometheus: url(prometheus),
        remoteWrite: `${url(prometheus)}/api/v1/write`,
        blackboxExporter: url(`127.0.0.1:${await freePort()}`),
      };
    }
    this.webhook = await this.startWebhook();
    const { port } = this.webhook.address() as AddressInfo;
    const globalPrometheus = url(`127.0.0.1:${await freePort()}`);
    this.endpoints = {
      regional,
      global: { prometheus: globalPrometheus, console: `${globalPrometheus}${CONSOLE_PATH}` },
      alertmanager: { url: url(`127.0.0.1:${await freePort()}`) },
      alertWebhook: `http://127.0.0.1:${port}/alerts`,
    };
    return this.endpoints;
  }

  private startWebhook(): Promise<Server> {
    const server = createFrontDoor({
      name: "alert webhook",
      style: "problem",
      handle: (request, response) => {
        const chunks: Buffer[] = [];
        request.on("data", (chunk: Buffer) => chunks.push(chunk));
        request.on("end", () => {
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { alerts?: WebhookAlert[] };
            for (const alert of body.alerts ?? []) this.notified(alert);
          } catch {
            // Alertmanager only sends JSON; anything else is not worth failing over.
          }
          response.writeHead(200).end();
        });
      },
    });
    return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
  }

  private notified(alert: WebhookAlert): void {
    const key = JSON.stringify(alert.labels);
    const name = `${alert.labels.alertname ?? "alert"}${alert.labels.region !== undefined ? ` ${alert.labels.region}` : ""}`;
    if (alert.status === "firing") {
      if (!this.firing.has(key)) this.options.progress(`alert firing: ${name}: ${alert.annotations.summary ?? ""}`);
      this.firing.set(key, alert);
    } else if (this.firing.delete(key)) {
      this.options.progress(`alert resolved: ${name}`);
    }
  }

  private write(file: string, text: string): string {
    const target = path.join(this.options.directory, file);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, text);
    return target;
  }

  /** A binary that serves HTTP, started under supervision; resolves once `probeUrl` answers. */
  private supervised(name: string, launch: (readyTimeoutMs: number) => Promise<RunningProcess>): Promise<void> {
    const child = this.options.supervise({ name, launch });
    this.processes.push(child);
    return child.start(this.options.readyTimeoutMs);
  }

  private spawn(name: string, binary: string, args: string[], logName: string, probeUrl: string): Promise<void> {
    return this.supervised(name, async (readyTimeoutMs) => {
      const started = spawnSupervised(name, binary, args, { logFile: path.join(this.options.logDirectory, logName) });
      await waitForHttp(started, probeUrl, readyTimeoutMs).catch(async (error: Error) => {
        await started.stop();
        throw error;
      });
      return { pid: started.pid, exitStatus: started.exitStatus, stop: () => started.stop() };
    });
  }

  /**
   * The dashboard's console, on the global Prometheus: its panels read only the federated
   * `region:`/`job:` series and `up`, which that server holds. No console library is needed: the
   * template loads Prometheus's own graph script itself.
   */
  private consoleFolders(): { templates: string; libraries: string } {
    const templates = path.dirname(
      this.write(
        `consoles/${CONSOLE_FILE}`,
        consoleTemplate(globalDashboard(this.options.config), this.options.timeScale),
      ),
    );
    const libraries = path.join(this.options.directory, "console_libraries");
    mkdirSync(libraries, { recursive: true });
    return { templates, libraries };
  }

  /** `config` is read at each (re)start, so a restarted server keeps what was armed. */
  private prometheus(
    name: string,
    file: string,
    config: () => unknown,
    address: string,
    role: "regional" | "global",
  ): Promise<void> {
    return this.supervised(name, async (readyTimeoutMs) => {
      const server = await startPrometheus({
        name,
        binary: this.options.binaries.prometheus,
        config: config(),
        directory: path.join(this.options.directory, file),
        address,
        remoteWriteReceiver: role === "regional",
        lifecycle: role === "global",
        ...(role === "global" && { consoles: this.consoleFolders() }),
        logFile: path.join(this.options.logDirectory, `${file}.log`),
        readyTimeoutMs,
      });
      return { pid: server.process.pid, exitStatus: server.process.exitStatus, stop: server.stop };
    });
  }

  async start(): Promise<MonitoringState> {
    const endpoints = this.endpoints ?? (await this.allocate());
    const { config, timeScale, binaries, directory } = this.options;
    rmSync(directory, { recursive: true, force: true });
    const rules = ruleFileTexts(config, { timeScale, runbookUrl: config.runbookUrl }, ["local"]);
    const rulePath = (name: string) => this.write(`rules/${name}`, rules[name] ?? "");
    const address = (full: string) => full.replace(/^http:\/\//, "");
    const regionalRules = [rulePath(RULE_FILES.regional), rulePath(RULE_FILES.platform("local"))];
    const recordingRuleFile = rulePath(RULE_FILES.global);
    const alertRuleFile = rulePath(RULE_FILES.alerts);
    const blackboxFile = this.write("blackbox.yml", stringify(blackboxConfig({ timeScale, requireTls: false })));

    const waits: Promise<void>[] = [];
    const alertmanagerFile = this.write(
      "alertmanager.yml",
      stringify(alertmanagerConfig({ receiver: { kind: "webhook", url: endpoints.alertWebhook }, timeScale })),
    );
    waits.push(
      this.spawn(
        "Alertmanager",
        binaries.alertmanager,
        [
          `--config.file=${alertmanagerFile}`,
          `--storage.path=${path.join(directory, "alertmanager")}`,
          `--web.listen-address=${address(endpoints.alertmanager.url)}`,
          // Otherwise it gossips for a cluster on 0.0.0.0:9094.
          "--cluster.listen-address=",
          "--log.level=warn",
        ],
        "alertmanager.log",
        `${endpoints.alertmanager.url}/-/ready`,
      ),
    );

    for (const monitored of this.options.regions) {
      const urls = endpoints.regional[monitored.region];
      if (urls === undefined) continue;
      waits.push(
        this.spawn(
          `${monitored.region} blackbox exporter`,
          binaries.blackboxExporter,
          [
            `--config.file=${blackboxFile}`,
            `--web.listen-address=${address(urls.blackboxExporter)}`,
            "--log.level=warn",
          ],
          `blackbox-${monitored.region}.log`,
          `${urls.blackboxExporter}/metrics`,
        ),
      );
      waits.push(
        this.prometheus(
          `${monitored.region} Prometheus`,
          `prometheus-${monitored.region}`,
          () =>
            regionalPrometheusConfig({
              region: monitored.region,
              target: "local",
              timeScale,
              selfAddress: address(urls.prometheus),
              blackboxAddress: address(urls.blackboxExporter),
              healthUrl: `${monitored.apiUrl}/health`,
              platformAddresses: monitored.platformAddresses,
              ruleFiles: regionalRules,
            }),
          address(urls.prometheus),
          "regional",
        ),
      );
    }

    const globalConfig = (armed: boolean) =>
      globalPrometheusConfig({
        timeScale,
        selfAddress: address(endpoints.global.prometheus),
        regionalServers: this.options.regions.map(({ region }) => ({
          region,
          address: address(endpoints.regional[region]?.prometheus ?? ""),
        })),
        alertmanagerAddress: address(endpoints.alertmanager.url),
        ruleFiles: armed ? [recordingRuleFile, alertRuleFile] : [recordingRuleFile],
      });
    this.globalConfig = globalConfig;
    waits.push(
      this.prometheus(
        "global Prometheus",
        GLOBAL_DIRECTORY,
        () => globalConfig(this.alertsArmed),
        address(endpoints.global.prometheus),
        "global",
      ),
    );

    const results = await Promise.allSettled(waits);
    const failed = results.find((result) => result.status === "rejected");
    if (failed !== undefined) {
      await this.stop();
      throw (failed as PromiseRejectedResult).reason;
    }
    return endpoints;
  }

  /**
   * Loads the alert rules into the global Prometheus; the cloud calls it once every region is
   * ready. Until then a region still starting would page as down (CalcBurstRegionDown).
   */
  async armAlerts(): Promise<void> {
    if (this.alertsArmed || this.globalConfig === undefined || this.endpoints === undefined) return;
    this.alertsArmed = true;
    await reloadPrometheus(
      this.endpoints.global.prometheus,
      path.join(this.options.directory, GLOBAL_DIRECTORY),
      this.globalConfig(true),
    );
  }

  /** The pids of the monitoring processes running now (one that is being restarted has none). */
  pids(): number[] {
    return this.processes.flatMap((child) => (child.pid === undefined ? [] : [child.pid]));
  }

  async stop(): Promise<void> {
    await Promise.all(this.processes.splice(0).map((started) => started.stop()));
    await new Promise<void>((resolve) => {
      if (this.webhook === undefined) return resolve();
      this.webhook.closeAllConnections();
      this.webhook.close(() => resolve());
    });
    this.webhook = undefined;
  }
}
