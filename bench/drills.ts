/**
 * `npm run bench:drill`: the four failover drills against a local cloud, time-scaled as in CI,
 * each fault on the region its location prefers, then the conflict drill. Writes the RTO per
 * mode (against its budget), the failed requests, the RPO exposure, the lost writes and the
 * divergence, and the conflict drill's figures, into docs/BENCHMARKS.md, and each drill's
 * timeline into docs/drills/.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { spawnLocalCloud } from "../local/cloud/spawn.js";
import { runConflictDrill } from "../local/drill/conflict.js";
import { localTarget } from "../local/drill/local-target.js";
import { renderTimeline } from "../local/drill/report.js";
import { runDrill } from "../local/drill/run.js";
import { type DrillReport, FAILOVER_MODES, type FailoverReport } from "../shared/drill-report.js";
import { PROJECT_ROOT } from "../shared/paths.js";
import { loadStack } from "../shared/stack-file.js";
import { measuredOn, verdict, writeSection } from "./report.js";

const TIME_SCALE = 0.05;
const DRILLS = path.join(PROJECT_ROOT, "docs", "drills");
const CONFLICT_PAIRS = 20;

const seconds = (ms: number | null) => (ms === null ? "—" : (ms / 1000).toFixed(2));

async function main(): Promise<void> {
  const { config } = loadStack("prod");
  console.error(`starting the local cloud (prod stack, time scale ${TIME_SCALE}, no monitoring) ...`);
  const cloud = await spawnLocalCloud({ timeScale: TIME_SCALE });
  const reports: FailoverReport[] = [];
  const drew = (report: DrillReport) => {
    const svg = path.join(DRILLS, `${report.times.startedAt.slice(0, 10)}-${report.mode}.svg`);
    report.timeline = path.relative(path.join(PROJECT_ROOT, "docs"), svg);
    mkdirSync(DRILLS, { recursive: true });
    writeFileSync(svg, renderTimeline(report));
  };
  let conflict: Awaited<ReturnType<typeof runConflictDrill>>;
  try {
    for (const [index, mode] of FAILOVER_MODES.entries()) {
      const region = config.regions[index % config.regions.length] ?? "";
      console.error(`drill ${mode} on ${region} ...`);
      const report = await runDrill(localTarget(config, cloud.stateDirectory), { stack: "prod", region, mode });
      drew(report);
      reports.push(report);
    }
    console.error(`conflict drill, ${CONFLICT_PAIRS} racing pairs per pairing ...`);
    conflict = await runConflictDrill(localTarget(config, cloud.stateDirectory), {
      stack: "prod",
      pairsPerPairing: CONFLICT_PAIRS,
    });
    drew(conflict);
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
    "| mode | region | detection s | RTO, last error s | RTO, all served s | RTO / budget | failed requests | RPO exposure | lost writes | items diverged | back on latency routing s | verdict | timeline |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...reports.map((report) => {
      const rto = report.measured.rtoAllServedMs;
      return `| ${report.mode} | ${report.region} | ${seconds(report.measured.detectionMs)} | ${seconds(report.measured.rtoLastErrorMs)} | ${seconds(rto)} | ${rto === null ? "—" : `${(rto / report.budget.rtoMs).toFixed(2)}×`} | ${report.measured.failedRequests} of ${report.measured.requests} | ${report.measured.rpoExposure} | ${report.measured.lostAcknowledgedWrites} | ${report.measured.divergence.divergentItems} of ${report.measured.divergence.compared} | ${seconds(report.measured.returnMs)} | ${verdict(report.passed)} | [svg](${report.timeline}) |`;
    }),
    "",
    "Lost acknowledged writes must be 0: every write a client got a 201 for was read back from every region after the restore. The RPO exposure counts writes the drilled region acknowledged that the other region could not serve during the outage. Items diverged must be 0: after each drill every item of every region is compared, attribute by attribute, once replication has caught up (`npm run local -- verify`).",
    "",
    "### Conflict drill",
    "",
    `\`npm run drill -- --mode conflict --pairs ${CONFLICT_PAIRS}\` on the same cloud: two writers with one id and different bodies leave together, ${CONFLICT_PAIRS} pairs per pairing, 10 pairs at a time; a writer that gets a 503 retries it (up to 3 times) as the API asks. [svg](${conflict.timeline})`,
    "",
    "| pairing | regions | pairs | both acknowledged | neither acknowledged | acknowledged, then superseded |",
    "|---|---|---|---|---|---|",
    ...conflict.pairings.map(
      (pairing) =>
        `| ${pairing.scope} ${pairing.kinds.join(" / ")} | ${pairing.scope === "same-region" ? pairing.regions[0] : pairing.regions.join(" vs ")} | ${pairing.pairs} | ${pairing.bothAcknowledged} | ${pairing.neitherAcknowledged} | ${pairing.acknowledgedSuperseded} |`,
    ),
    "",
    `Same-region acknowledged writes lost: **${conflict.measured.sameRegionAcknowledgedLost}** (must be 0). Cross-region acknowledged writes superseded by the other region: **${conflict.measured.crossRegionAcknowledgedSuperseded}** of ${conflict.pairings.filter((pairing) => pairing.scope === "cross-region").reduce((sum, pairing) => sum + pairing.pairs, 0)} cross-region pairs (MREC's exposure: both regions may acknowledge one key; the later applied write wins). Items diverged after settling: **${conflict.measured.divergence.divergentItems}** of ${conflict.measured.divergence.compared}. Verdict: ${verdict(conflict.passed)}.`,
  ]);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
