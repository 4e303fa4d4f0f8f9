/**
 * The local cloud's command line.
 *   up                       start the cloud in the foreground (what `npm start` runs)
 *   status                   health, routing, replication and processes of the running cloud
 *   fail <region> --mode m   inject a fault: api | data | health | isolate | crash
 *                            (on an MRSC witness's region: isolate | crash)
 *   restore <region>         undo every fault on the region (or the witness)
 *   verify                   compare every item in every region once replication has caught up
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { HANDLER_BUNDLE as BUNDLE, PROJECT_ROOT } from "../shared/paths.js";
import { loadStack } from "../shared/stack-file.js";
import {
  type CloudState,
  type CloudStatus,
  DEFAULT_READY_TIMEOUT_MS,
  FAULT_MODES,
  LocalCloud,
  WITNESS_FAULT_MODES,
} from "./cloud/cloud.js";
import { startControlServer } from "./cloud/control.js";
import { ControlError, callControl, readCloudState, verifyCloud } from "./cloud/control-client.js";
import { runDemo } from "./demo.js";
import { findMonitoringBinaries } from "./monitoring/binaries.js";
import { capturePage, DASHBOARD_SCREENSHOT } from "./monitoring/browser.js";
import { monitoringGuide } from "./monitoring/guide.js";
import { ReadinessTimeoutError } from "./process/readiness.js";
import type { ConvergenceReport } from "./replicator/convergence.js";
import { quietSdkNodeWarning } from "./sdk-warning.js";

const USAGE = `usage: npm start [-- --stack prod --port 8080 --time-scale 1 --no-demo --exit-after-demo --no-monitoring
                    --ready-timeout ${DEFAULT_READY_TIMEOUT_MS / 1000} --fresh]
       npm run local -- status [--json]
       npm run local -- fail <region> --mode ${FAULT_MODES.join("|")}
       npm run local -- fail <witness region> --mode ${WITNESS_FAULT_MODES.join("|")}   (a two-region MRSC stack's witness)
       npm run local -- restore <region>
       npm run local -- verify [--timeout <s>] [--json]   (exit 0 converged, 1 diverged, 3 could not tell)
       npm run local -- screenshot [--out .local/dashboard.png]   (the dashboard console, by headless Chromium)
options: --state-dir <dir> (default .local) for every command`;

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    stack: { type: "string", default: "prod" },
    port: { type: "string", default: "8080" },
    "time-scale": { type: "string", default: "1" },
    "state-dir": { type: "string", default: path.join(PROJECT_ROOT, ".local") },
    "no-demo": { type: "boolean", default: false },
    "exit-after-demo": { type: "boolean", default: false },
    "no-monitoring": { type: "boolean", default: false },
    "ready-timeout": { type: "string", default: String(DEFAULT_READY_TIMEOUT_MS / 1000) },
    fresh: { type: "boolean", default: false },
    // For npm run bench:local only: measures what the data endpoints cost (docs/LOCAL-CLOUD.md).
    "bypass-data-endpoint": { type: "boolean", default: false },
    "log-level": { type: "string", default: "info" },
    mode: { type: "string" },
    timeout: { type: "string", default: "60" },
    json: { type: "boolean", default: false },
    out: { type: "string" },
    help: { type: "boolean", default: false },
  },
});

class UsageError extends Error {}

/**
 * Whoever read the supervisor's output is gone (a closed pipe: the test runner that started it
 * died, or `npm start | head` finished). A shell would end the process with SIGPIPE; Node ignores
 * SIGPIPE, and each later write fails with EPIPE instead. Unhandled, that error becomes an
 * uncaught exception whose own message fails the same way, in the next-tick queue, for ever: the
 * supervisor spins and never handles SIGTERM. Handled here, the writes fail quietly and the
 * supervisor stops its children as SIGPIPE would have stopped it.
 */
function stopWhenOutputIsLost(stop: () => void): void {
  let lost = false;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", () => {
      if (lost) return;
      lost = true;
      stop();
    });
  }
}

function numberFlag(name: string, value: string, check: (n: number) => boolean, rule: string): number {
  const parsed = Number(value);
  if (!check(parsed)) throw new UsageError(`--${name} must be ${rule}, not ${value}`);
  return parsed;
}

async function up(): Promise<void> {
  quietSdkNodeWarning();
  const { stack, file, config } = loadStack(flags.stack);
  const timeScale = numberFlag("time-scale", flags["time-scale"], (n) => n > 0 && n <= 1, "a number in (0, 1]");
  const port = numberFlag("port", flags.port, (n) => Number.isInteger(n) && n >= 0 && n < 65536, "a port number");
  const readyTimeoutSeconds = numberFlag(
    "ready-timeout",
    flags["ready-timeout"],
    (n) => n > 0 && n <= 86_400,
    "a number of seconds, more than 0 and at most 86400",
  );
  if (!existsSync(BUNDLE)) throw new UsageError(`${BUNDLE} is missing: run npm run build (npm start does)`);
  refuseIfRunning(path.resolve(flags["state-dir"]));
  console.log(
    `CalcBurst local cloud: stack ${stack} (${path.relative(process.cwd(), file)}), regions ${config.regions.join(", ")}`,
  );

  const monitoring = chooseMonitoring();
  if ("disabled" in monitoring) console.log(`monitoring is off: ${monitoring.disabled}`);
  if (flags["bypass-data-endpoint"]) {
    console.log(
      "--bypass-data-endpoint: for benchmarks only. The functions write to DynamoDB Local directly and conflicting writes in two regions no longer resolve as a global table's do.",
    );
  }
  const cloud = new LocalCloud({
    bypassDataEndpoint: flags["bypass-data-endpoint"],
    monitoring,
    stack,
    config,
    timeScale,
    routerPort: port,
    stateDirectory: path.resolve(flags["state-dir"]),
    bundlePath: BUNDLE,
    logLevel: flags["log-level"],
    progress: (line) => console.log(line),
    readyTimeoutMs: readyTimeoutSeconds * 1000,
    freshData: flags.fresh,
  });
  let control: { close(): Promise<void> } | undefined;
  let stopping: Promise<void> | undefined;
  const shutdown = (code: number) => {
    stopping ??= (async () => {
      console.log("stopping the local cloud ...");
      await control?.close().catch(() => undefined);
      try {
        await cloud.stop();
        console.log("stopped: every child process has exited");
      } catch (error) {
        console.error(`stopping failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        code = 1;
      }
      process.exit(code);
    })();
    return stopping;
  };
  process.once("SIGINT", () => void shutdown(0));
  process.once("SIGTERM", () => void shutdown(0));
  // The terminal that ran npm start closed: nobody can stop the cloud with Ctrl-C any more.
  process.once("SIGHUP", () => void shutdown(0));
  stopWhenOutputIsLost(() => void shutdown(1));
  // An error nothing handled (a rejection too: Node turns it into one) leaves the supervisor in a
  // state nobody can vouch for, so it stops every child and says why; each one that follows, even
  // during the stop, is printed as well, and none ends the process before the children are gone.
  process.on("uncaughtException", (error, origin) => {
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    console.error(`local cloud: unexpected error in the supervisor (${origin}): ${text}`);
    if (stopping === undefined) {
      console.error(
        "stopping every child process: the supervisor cannot go on serving after an error it did not expect",
      );
    }
    void shutdown(1);
  });

  try {
    await cloud.start();
    const server = await startControlServer(cloud);
    control = server;
    cloud.setControlUrl(server.url);
    console.log("waiting for every region to answer /health through the router ...");
    await cloud.waitUntilReady();
    console.log(
      `state: ${path.relative(process.cwd(), cloud.stateFile)}   logs: ${path.relative(process.cwd(), cloud.logDirectory)}/`,
    );
    const { data } = cloud.state();
    console.log(
      data.kept
        ? `data: kept from the previous run in ${path.relative(process.cwd(), data.directory)}/, as a region keeps its storage (npm start -- --fresh starts empty)`
        : `data: new tables in ${path.relative(process.cwd(), data.directory)}/; the next npm start keeps them (--fresh starts empty)`,
    );
    console.log(`CalcBurst local cloud ready: ${cloud.routerUrl}`);
    const { monitoring: observed } = cloud.state();
    if ("global" in observed) {
      for (const line of monitoringGuide(observed)) console.log(line);
    }
    if (!flags["no-demo"]) {
      await runDemo({
        routerUrl: cloud.routerUrl,
        locations: Object.keys(config.localClientLatencyMs),
        regions: config.regions,
        log: (line) => console.log(line),
      });
    }
    if (flags["exit-after-demo"]) return void (await shutdown(0));
    console.log(`
try:
  curl -s ${cloud.routerUrl}/v1/calculations -H 'content-type: application/json' -H 'x-client-location: us' -d '{"operation":"mean","operands":[1,2,3.5]}'
  npm run local -- status
  npm run local -- fail ${config.regions[0]} --mode health      (then: npm run local -- restore ${config.regions[0]})
Ctrl-C stops everything.`);
  } catch (error) {
    console.error(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
    if (error instanceof ReadinessTimeoutError) {
      console.error(
        `try: npm start -- --ready-timeout ${readyTimeoutSeconds * 2} (now ${readyTimeoutSeconds} s) on a busy machine, or stop what else is running; the children's output is in ${path.relative(process.cwd(), cloud.logDirectory)}/`,
      );
    }
    await shutdown(1);
  }
}

/** Monitoring runs when its binaries are here; otherwise the cloud says how to get them and runs without. */
function chooseMonitoring(): ConstructorParameters<typeof LocalCloud>[0]["monitoring"] {
  if (flags["no-monitoring"]) return { disabled: "--no-monitoring was given" };
  const found = findMonitoringBinaries();
  if (found.available) return { binaries: found.binaries };
  return {
    disabled: `${found.missing.join(", ")} not installed. Install them (as root) with: ${found.installCommand}`,
  };
}

/** One cloud per state folder: a second would overwrite the first one's state file. */
function refuseIfRunning(stateDirectory: string): void {
  const file = path.join(stateDirectory, "state.json");
  if (!existsSync(file)) return;
  const running = JSON.parse(readFileSync(file, "utf8")) as CloudState;
  try {
    process.kill(running.supervisor.pid, 0);
  } catch {
    return; // left behind by a cloud that is gone
  }
  throw new UsageError(
    `a local cloud is already running (pid ${running.supervisor.pid}, ${running.router.url}); stop it with Ctrl-C, or start another with --state-dir <dir> --port <n>`,
  );
}

function readState(): CloudState {
  return readCloudState(path.resolve(flags["state-dir"]));
}

function control<T>(method: "GET" | "POST", route: string, body?: unknown): Promise<T> {
  return callControl<T>(readState(), method, route, body);
}

function printStatus(status: CloudStatus): void {
  const { state } = status;
  console.log(`CalcBurst local cloud: stack ${state.stack}, router ${state.router.url}, since ${state.startedAt}`);
  console.log(
    `health checks every ${state.healthCheck.intervalMs} ms, threshold ${state.healthCheck.failureThreshold}, timeout ${state.healthCheck.timeoutMs} ms; record TTL ${state.recordTtlMs} ms; time scale ${state.timeScale}`,
  );
  console.log("\nregions (as the router's health checks see them)");
  for (const health of status.health) {
    const region = state.regions[health.region];
    const last =
      health.lastCheck === null
        ? "not checked yet"
        : `${health.lastCheck.passed ? "pass" : "fail"} ${health.lastCheck.detail}`;
    const faults = region?.faults.length ? `  faults: ${region.faults.join(", ")}` : "";
    const fn = status.functions[health.region];
    const live =
      fn?.alias === undefined
        ? ""
        : `, live → version ${fn.alias.version}${fn.alias.additionalVersion === undefined ? "" : ` + ${fn.alias.weight} to ${fn.alias.additionalVersion}`}`;
    const instances = fn ? `  cold starts ${fn.coldStarts}, in flight ${fn.inFlight}${live}` : "";
    console.log(
      `  ${health.region.padEnd(12)} ${(health.healthy ? "HEALTHY" : "UNHEALTHY").padEnd(9)} last check: ${last}${faults}${instances}`,
    );
  }
  const { witness } = state;
  if (witness !== undefined) {
    const faults = witness.faults.length ? `  faults: ${witness.faults.join(", ")}` : "";
    console.log(
      `  ${witness.region.padEnd(12)} WITNESS   a lease-holder with no table: not routed, no /health${faults}`,
    );
  }
  console.log("\nrouting (a fresh DNS answer per client location)");
  for (const [location, region] of Object.entries(status.routingTable))
    console.log(`  ${location.padEnd(8)} → ${region}`);
  console.log(
    `  resolvers holding an answer: ${JSON.stringify(status.resolverCache)}; routed so far: ${JSON.stringify(status.routedRequests)}`,
  );
  console.log("\nreplication");
  const { replication } = status;
  if ("error" in replication) console.log(`  ${replication.error}`);
  for (const pair of "pairs" in replication ? replication.pairs : []) {
    console.log(
      `  ${`${pair.source} → ${pair.target}`.padEnd(26)} ${pair.paused ? "PAUSED " : "running"} applied ${pair.records.applied}, lag p50 ${pair.lag.p50Ms ?? "-"} ms p99 ${pair.lag.p99Ms ?? "-"} ms${pair.lastError ? `, last error: ${pair.lastError}` : ""}`,
    );
  }
  for (const kept of "tombstones" in replication ? replication.tombstones : []) {
    console.log(
      `  ${`tombstones in ${kept.region}`.padEnd(26)} ${kept.held} held, ${kept.removed} removed${kept.lastError ? `, last error: ${kept.lastError}` : ""}`,
    );
  }
  console.log("\nprocesses (supervised: one that dies is restarted with backoff, on the same port)");
  console.log(
    `  supervisor + router + control   pid ${state.supervisor.pid}   ${state.router.url}  ${state.control.url}`,
  );
  const where = new Map<string, string>([["replicator", state.replicator.url]]);
  for (const [name, region] of Object.entries(state.regions)) {
    where.set(
      `${name} API`,
      `${region.api.url}   data endpoint ${region.data.endpoint} ${region.data.pid === null ? "(bypassed)" : "(in the API process)"}`,
    );
    where.set(`${name} DynamoDB Local`, `${region.dynamodb.endpoint}   data in ${region.dynamodb.dataDirectory}`);
  }
  if (witness !== undefined) {
    where.set(`${witness.region} witness`, `${witness.url}   versions in ${witness.versionsFile}`);
  }
  for (const child of state.processes) {
    const running =
      child.pid === null ? `(${child.state === "stopped" ? "stopped" : child.state})` : `pid ${child.pid}`;
    const history =
      child.lastDeath === null
        ? ""
        : `   ${child.state === "restarting" ? "DIED" : "died"} ${child.lastDeath.at} (pid ${child.lastDeath.pid}, ${child.lastDeath.how})${child.lastBack === null || child.lastBack.at < child.lastDeath.at ? "" : `, back after ${(child.lastBack.downMs / 1000).toFixed(1)} s`}; restarts ${child.restarts}`;
    console.log(`  ${child.name.padEnd(31)} ${running.padEnd(12)} ${where.get(child.name) ?? ""}${history}`);
  }
  console.log("\nmonitoring");
  const { monitoring } = state;
  if ("disabled" in monitoring) {
    console.log(`  off: ${monitoring.disabled}`);
  } else {
    for (const [name, urls] of Object.entries(monitoring.regional)) {
      console.log(`  ${`${name} Prometheus`.padEnd(31)} ${urls.prometheus}   blackbox ${urls.blackboxExporter}`);
    }
    console.log(`  ${"global Prometheus".padEnd(31)} ${monitoring.global.prometheus}`);
    console.log(`  ${"Alertmanager".padEnd(31)} ${monitoring.alertmanager.url}`);
    console.log(
      status.alerts.length === 0
        ? "  no alert firing"
        : status.alerts.map((alert) => `  FIRING ${alert.name} ${alert.region ?? ""}: ${alert.summary}`).join("\n"),
    );
  }
}

function printConvergence(report: ConvergenceReport, regions: string[]): void {
  const took = `${report.rounds} round${report.rounds === 1 ? "" : "s"}, ${(report.elapsedMs / 1000).toFixed(1)} s`;
  if (report.outcome === "converged") {
    console.log(`converged: ${report.compared} items identical in ${regions.join(", ")} (${took})`);
    return;
  }
  if (report.outcome === "diverged") {
    console.log(
      `DIVERGED: ${report.divergent.length} of ${report.compared} items still differ between regions after replication caught up (${took})`,
    );
  } else {
    console.log(`NOT VERIFIED: ${report.reason} (${took})`);
    if (report.divergent.length > 0) {
      console.log(
        `  ${report.divergent.length} items differed at that moment: in flight or diverged, it cannot tell yet`,
      );
    }
  }
  for (const divergence of report.divergent.slice(0, 20)) {
    console.log(`  ${divergence.id}`);
    for (const [region, copy] of Object.entries(divergence.copies)) {
      const stamp =
        copy?.stamp === null || copy === null ? "" : `  [applied ${copy.stamp.time} in ${copy.stamp.region}]`;
      console.log(`    ${region.padEnd(16)} ${copy === null ? "(missing)" : `${copy.summary}${stamp}`}`);
    }
  }
  if (report.divergent.length > 20)
    console.log(`  ... and ${report.divergent.length - 20} more (--json lists every one)`);
}

async function main(): Promise<void> {
  quietSdkNodeWarning();
  const [command = "up", region] = positionals;
  if (flags.help) return console.log(USAGE);
  switch (command) {
    case "up":
      return up();
    case "status": {
      const status = await control<CloudStatus>("GET", "/status");
      return flags.json ? console.log(JSON.stringify(status, null, 2)) : printStatus(status);
    }
    case "fail": {
      if (region === undefined)
        throw new UsageError("fail needs a region: npm run local -- fail <region> --mode <mode>");
      if (flags.mode === undefined) throw new UsageError(`fail needs --mode ${FAULT_MODES.join("|")}`);
      const { message } = await control<{ message: string }>("POST", "/fail", { region, mode: flags.mode });
      return console.log(message);
    }
    case "restore": {
      if (region === undefined) throw new UsageError("restore needs a region: npm run local -- restore <region>");
      const { message } = await control<{ message: string }>("POST", "/restore", { region });
      return console.log(message);
    }
    case "verify": {
      const timeoutSeconds = numberFlag("timeout", flags.timeout, (n) => n > 0, "a positive number of seconds");
      const state = readState();
      const regions = Object.keys(state.regions);
      if (!flags.json) console.log(`verifying ${regions.join(", ")} once replication has caught up ...`);
      const report = await verifyCloud(
        state,
        timeoutSeconds * 1000,
        flags.json ? undefined : (line) => console.log(`  ${line}`),
      );
      if (flags.json) console.log(JSON.stringify(report, null, 2));
      else printConvergence(report, regions);
      // 1 means the regions differ; 3 that it could not tell (USAGE lists both).
      process.exitCode = report.outcome === "converged" ? 0 : report.outcome === "diverged" ? 1 : 3;
      return;
    }
    case "screenshot": {
      const { monitoring } = readState();
      if (!("global" in monitoring)) throw new UsageError(`monitoring is off in this cloud: ${monitoring.disabled}`);
      const file = path.resolve(flags.out ?? path.join(flags["state-dir"], "dashboard.png"));
      mkdirSync(path.dirname(file), { recursive: true });
      await capturePage(
        monitoring.global.console,
        { kind: "screenshot", file, ...DASHBOARD_SCREENSHOT },
        {
          scriptBudgetMs: 10_000,
          timeoutMs: 120_000,
        },
      );
      return console.log(`wrote ${path.relative(process.cwd(), file)} (${monitoring.global.console})`);
    }
    default:
      throw new UsageError(`unknown command ${command}\n${USAGE}`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(error instanceof UsageError || error instanceof ControlError ? 2 : 1);
});
