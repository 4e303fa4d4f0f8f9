/**
 * npm run load -- <scenario> [--target local|prod|<url>] [--stack prod] [--output <report.json>]
 *                 [--state-dir .local] [--time-scale <0..1>] [--drill-region <r>] [--drill-mode <m>]
 * Runs load/scenarios/<scenario>.yml with load/common-config.yml through artillery, with the
 * `ensure` thresholds taken from the stack's SLO, prints a summary and writes the JSON report.
 * Against `local` it uses the running local cloud, or starts one for the run and stops it after.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { FAILOVER_MODES, type FailoverMode } from "../../shared/drill-report.js";
import { PROJECT_ROOT } from "../../shared/paths.js";
import { loadStack } from "../../shared/stack-file.js";
import { readCloudState } from "../cloud/control-client.js";
import { type SpawnedCloud, spawnLocalCloud } from "../cloud/spawn.js";
import { localTarget } from "../drill/local-target.js";
import { renderTable } from "../drill/report.js";
import { runDrill } from "../drill/run.js";
import { overloadWarning } from "../process/readiness.js";
import { quietSdkNodeWarning } from "../sdk-warning.js";
import { checksInWords, ensureFromSlo, LOAD_DIRECTORY, LOCAL_CAPACITY_FILE, scenarios } from "./ensure.js";

const LOAD = LOAD_DIRECTORY;
const ARTILLERY = path.join(PROJECT_ROOT, "node_modules", ".bin", "artillery");
/** A write and a read back per user, nine in ten; one request for the rest. */
const REQUESTS_PER_USER = 0.9 * 2 + 0.1;

/** The share of users a run that drills a failover may fail: one failover's errors. */
const FAILOVER_ALLOWED_FAILED_SHARE = 0.25;

/** artillery's exit code when expectations failed and nothing else did. */
const EXPECTATIONS_FAILED_EXIT = 21;

class UsageError extends Error {}

interface ArtilleryReport {
  aggregate: {
    counters?: Record<string, number>;
    summaries?: Record<string, { p50: number; p95: number; p99: number; max: number }>;
  };
}

function readReport(file: string): ArtilleryReport {
  return JSON.parse(readFileSync(file, "utf8")) as ArtilleryReport;
}

function summarise(report: ArtilleryReport): string {
  const counters = report.aggregate.counters ?? {};
  const latency = report.aggregate.summaries?.["http.response_time"];
  const codes = Object.entries(counters)
    .filter(([name]) => name.startsWith("http.codes."))
    .map(([name, count]) => `${name.slice("http.codes.".length)}: ${count}`)
    .join(", ");
  return [
    `  requests ${counters["http.requests"] ?? 0} (${codes || "no answers"}); users ${counters["vusers.created"] ?? 0}, failed ${counters["vusers.failed"] ?? 0}`,
    latency === undefined
      ? "  no response times recorded"
      : `  response time p50 ${latency.p50} ms, p95 ${latency.p95} ms, p99 ${latency.p99} ms, max ${latency.max} ms`,
  ].join("\n");
}

function runArtillery(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(ARTILLERY, ["run", ...args], {
      cwd: PROJECT_ROOT,
      stdio: "inherit",
      env: { ...process.env, ARTILLERY_DISABLE_TELEMETRY: "true", PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: "1" },
    });
    child.once("error", reject);
    child.once("exit", (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
  });
}

function supervisorAlive(stateDirectory: string): boolean {
  try {
    process.kill(readCloudState(stateDirectory).supervisor.pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  quietSdkNodeWarning();
  const { values: flags, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      target: { type: "string", default: "local" },
      stack: { type: "string", default: "prod" },
      output: { type: "string" },
      "state-dir": { type: "string", default: path.join(PROJECT_ROOT, ".local") },
      "time-scale": { type: "string" },
      "drill-region": { type: "string" },
      "drill-mode": { type: "string", default: "api" },
    },
  });
  const [scenario] = positionals;
  const known = scenarios();
  if (scenario === undefined || !known.includes(scenario)) {
    throw new UsageError(
      `usage: npm run load -- <scenario> [--target local|prod|<url>]\nscenarios: ${known.join(", ")}`,
    );
  }
  if (!existsSync(ARTILLERY)) throw new UsageError(`artillery is not installed: run npm install`);
  const { config } = loadStack(flags.stack);
  const drilled = scenario === "failover-under-load";
  const drillMode = flags["drill-mode"] as FailoverMode;
  if (!FAILOVER_MODES.includes(drillMode)) {
    throw new UsageError(`--drill-mode must be one of ${FAILOVER_MODES.join(", ")}`);
  }
  const drillRegion = flags["drill-region"] ?? config.regions[0] ?? "";

  // Where the load goes, and which of the scenario's environments applies.
  let stateDirectory = path.resolve(flags["state-dir"]);
  let started: SpawnedCloud | undefined;
  let url: string;
  let environment: "local" | "prod";
  if (flags.target === "local") {
    environment = "local";
    if (supervisorAlive(stateDirectory)) {
      url = readCloudState(stateDirectory).router.url;
      console.log(`load: using the running local cloud at ${url}`);
    } else {
      // A drill at full time takes minutes; the run scales the cloud's clocks down unless told.
      const timeScale = Number(flags["time-scale"] ?? (drilled ? "0.1" : "1"));
      console.log(`load: no local cloud is running; starting one (time scale ${timeScale}) ...`);
      started = await spawnLocalCloud({ timeScale });
      stateDirectory = started.stateDirectory;
      url = started.routerUrl;
    }
  } else if (flags.target === "prod") {
    environment = "prod";
    url = `https://api.${config.domain}`;
  } else if (/^https?:\/\//.test(flags.target)) {
    url = flags.target.replace(/\/$/, "");
    environment = /^http:\/\/(127\.0\.0\.1|localhost)/.test(url) ? "local" : "prod";
  } else {
    throw new UsageError(`--target must be local, prod or a URL, not ${flags.target}`);
  }
  if (drilled && environment !== "local") {
    console.log(
      `load: run the drill against AWS yourself meanwhile: npm run drill -- --target aws --region ${drillRegion} --mode ${drillMode}`,
    );
  }

  const overrides: Record<string, unknown> = {
    config: {
      plugins: {
        // A failover spends errors by design: allow one drill's RTO budget of them.
        ensure: ensureFromSlo(config, drilled ? { allowedFailedShare: FAILOVER_ALLOWED_FAILED_SHARE } : undefined),
      },
    },
  };
  if (scenario === "steady" && environment === "local" && existsSync(LOCAL_CAPACITY_FILE)) {
    const capacity = JSON.parse(readFileSync(LOCAL_CAPACITY_FILE, "utf8")) as { sustainedRequestsPerSecond: number };
    const arrivalRate = Math.max(1, Math.floor(capacity.sustainedRequestsPerSecond / REQUESTS_PER_USER));
    console.log(
      `load: local steady rate ${arrivalRate} users/s (${capacity.sustainedRequestsPerSecond} requests/s measured by npm run bench:capacity)`,
    );
    overrides.config = {
      ...(overrides.config as object),
      environments: {
        local: { phases: [{ name: "steady at the measured local capacity", duration: 60, arrivalRate }] },
      },
    };
  }
  const output = path.resolve(
    flags.output ??
      path.join(PROJECT_ROOT, ".local", "load", `${scenario}-${new Date().toISOString().replace(/[:.]/g, "-")}.json`),
  );
  mkdirSync(path.dirname(output), { recursive: true });

  let exitCode = 0;
  try {
    const load = runArtillery([
      "--config",
      path.join(LOAD, "common-config.yml"),
      path.join(LOAD, "scenarios", `${scenario}.yml`),
      "--environment",
      environment,
      "--target",
      url,
      "--overrides",
      JSON.stringify(overrides),
      "--output",
      output,
      "--quiet",
    ]);
    let drillPassed = true;
    if (drilled && environment === "local") {
      // The drill starts once the warm-up phase is over (5 s locally).
      await new Promise((resolve) => setTimeout(resolve, 5000));
      const report = await runDrill(localTarget(config, stateDirectory), {
        stack: flags.stack,
        region: drillRegion,
        mode: drillMode,
        progress: (line) => console.log(`drill: ${line}`),
      });
      console.log(`\n${renderTable(report)}\n`);
      drillPassed = report.passed;
    }
    const code = await load;
    // artillery exits 21 when some expectations failed but every ensure check held (ensure's
    // own failure exits 1): the error budget decides, not a single failed request.
    const held = code === 0 || code === EXPECTATIONS_FAILED_EXIT;
    const report = existsSync(output) ? readReport(output) : { aggregate: {} };
    console.log(
      `\nload ${scenario} against ${url} (${environment}):\n${summarise(report)}\n  report: ${path.relative(process.cwd(), output)}`,
    );
    const failover = drilled ? { allowedFailedShare: FAILOVER_ALLOWED_FAILED_SHARE } : undefined;
    const measured = {
      counters: report.aggregate.counters ?? {},
      ...(report.aggregate.summaries?.["http.response_time"] !== undefined && {
        responseTime: report.aggregate.summaries["http.response_time"],
      }),
    };
    const overloaded = overloadWarning();
    if (overloaded !== undefined) console.log(`  ${overloaded}`);
    console.log("  checks:");
    for (const { line } of checksInWords(config, measured, failover)) console.log(`    ${line}`);
    console.log(
      held
        ? `  ensure: the SLO thresholds held${code === 0 ? "" : " (some requests failed, within the error budget)"}`
        : `  ensure: FAILED (artillery exit ${code})`,
    );
    if (!drillPassed) console.log("  drill: FAILED (see its report above)");
    exitCode = held && drillPassed ? 0 : 1;
  } finally {
    if (started !== undefined) {
      started.child.kill("SIGTERM");
      await new Promise((resolve) => started?.child.once("exit", resolve));
    }
  }
  process.exitCode = exitCode;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(error instanceof UsageError ? 2 : 1);
});
