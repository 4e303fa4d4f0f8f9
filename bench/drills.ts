/**
 * `npm run bench:drill`: the four failover drills against a local cloud, time-scaled as in CI,
 * each fault on the region its location prefers. Writes the RTO per mode (against its budget),
 * the failed requests, the RPO exposure and the lost writes into docs/BENCHMARKS.md, and each
 * drill's timeline into docs/drills/.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { spawnLocalCloud } from "../local/cloud/spawn.js";
import { localTarget } from "../local/drill/local-target.js";
import { renderTimeline } from "../local/drill/report.js";
import { runDrill } from "../local/drill/run.js";
import { DRILL_MODES, type DrillReport } from "../shared/drill-report.js";
import { PROJECT_ROOT } from "../shared/paths.js";
import { loadStack } from "../shared/stack-file.js";
import { measuredOn, verdict, writeSection } from "./report.js";

const TIME_SCALE = 0.05;
const DRILLS = path.join(PROJECT_ROOT, "docs", "drills");

const seconds = (ms: number | null) => (ms === null ? "—" : (ms / 1000).toFixed(2));

async function main(): Promise<void> {
  const { config } = loadStack("prod");
  console.error(`starting the local cloud (prod stack, time scale ${TIME_SCALE}, no monitoring) ...`);
  const cloud = await spawnLocalCloud({ timeScale: TIME_SCALE });
  const reports: DrillReport[] = [];
  try {
    for (const [index, mode] of DRILL_MODES.entries()) {
      const region = config.regions[index % config.regions.length] ?? "";
      console.error(`drill ${mode} on ${region} ...`);
      const report = await runDrill(localTarget(config, cloud.stateDirectory), { stack: "prod", region, mode });
      const date = report.times.startedAt.slice(0, 10);
      const svg = path.join(DRILLS, `${date}-${mode}.svg`);
      report.timeline = path.relative(path.join(PROJECT_ROOT, "docs"), svg);
      mkdirSync(DRILLS, { recursive: true });
      writeFileSync(svg, renderTimeline(report));
      reports.push(report);
    }
  } finally {
    cloud.child.kill("SIGTERM");
    await new Promise((resolve) => cloud.child.once("exit", resolve));
    rmSync(cloud.stateDirectory, { recursive: true, force: true });
  }
  const budget = reports[0]?.budget;
  writeSection("drill", [
    "## Failover drills: RTO per mode",
    "",
    measuredOn(),
    `Command: \`npm run bench:drill\` (the local cloud at time scale ${TIME_SCALE}, as CI runs it: health checks every ${config.healthCheckIntervalSeconds * 1000 * TIME_SCALE} ms, threshold ${config.healthCheckFailureThreshold}, record TTL ${config.recordTtlSeconds * 1000 * TIME_SCALE} ms). Each mode is one \`npm run drill\` run; its budget is detection + TTL + slack from the stack config, scaled.`,
    "",
    budget === undefined
      ? ""
      : `RTO budget: ${seconds(budget.rtoMs)} s = detection ${seconds(budget.detectionMs)} s + TTL ${seconds(budget.ttlMs)} s + slack ${seconds(budget.slackMs)} s. On AWS the same config gives ${(config.healthCheckIntervalSeconds * config.healthCheckFailureThreshold + 4 + 5 + config.recordTtlSeconds + config.drillRtoSlackSeconds).toFixed(0)} s (on paper: not drilled on AWS from here).`,
    "",
    "| mode | region | detection s | RTO, last error s | RTO, all served s | RTO / budget | failed requests | RPO exposure | lost writes | back on latency routing s | verdict | timeline |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...reports.map((report) => {
      const rto = report.measured.rtoAllServedMs;
      return `| ${report.mode} | ${report.region} | ${seconds(report.measured.detectionMs)} | ${seconds(report.measured.rtoLastErrorMs)} | ${seconds(rto)} | ${rto === null ? "—" : `${(rto / report.budget.rtoMs).toFixed(2)}×`} | ${report.measured.failedRequests} of ${report.measured.requests} | ${report.measured.rpoExposure} | ${report.measured.lostAcknowledgedWrites} | ${seconds(report.measured.returnMs)} | ${verdict(report.passed)} | [svg](${report.timeline}) |`;
    }),
    "",
    "Lost acknowledged writes must be 0: every write a client got a 201 for was read back from every region after the restore. The RPO exposure counts writes the drilled region acknowledged that the other region could not serve during the outage.",
  ]);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
