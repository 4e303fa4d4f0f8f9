import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import { type BadReleaseReport, badReleaseSchema } from "../../shared/drill-report.js";
import type { StackConfig } from "../../shared/stack-config.js";
import { readCloudState } from "../cloud/control-client.js";
import { LOCAL_RELEASE_DEFAULTS, releaseLocal, scaledTiming } from "../release/release.js";
import { checkDivergence } from "./divergence.js";
import { isSuccess, lostAfterSettling, sleep, startWrites } from "./ledger.js";
import { escapeXml, timelineMarker } from "./report.js";
import type { DrillTarget } from "./target.js";

/** The share of its requests the faulty version fails: far above any SLO, far below "down". */
export const FAILURE_SHARE = 0.3;

/**
 * The faulty version: the real handler wrapped (local/drill/faulty-handler.ts) to answer 500 to
 * FAILURE_SHARE of its requests, bundled as the product's build bundles the handler. A file of
 * the drill's, never a switch in the product.
 */
export async function buildFaultyBundle(outfile: string, failureShare = FAILURE_SHARE): Promise<string> {
  mkdirSync(path.dirname(outfile), { recursive: true });
  await build({
    entryPoints: [path.join(__dirname, "faulty-handler.ts")],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    minify: true,
    external: ["@aws-sdk/*"],
    define: { DRILL_FAILURE_SHARE: String(failureShare) },
    logLevel: "warning",
    legalComments: "none",
  });
  return outfile;
}

export interface BadReleaseOptions {
  stack: string;
  config: StackConfig;
  stateDirectory: string;
  progress?: (line: string) => void;
}

/**
 * The bad-release drill: writes flow through the router as in the failover drills while a faulty
 * version is released; it passes when the release rolls it back within the canary and the bake
 * of the first wave, no region beyond the first wave served it, and no acknowledged write is lost.
 */
export async function runBadReleaseDrill(target: DrillTarget, options: BadReleaseOptions): Promise<BadReleaseReport> {
  const progress = options.progress ?? (() => undefined);
  const state = readCloudState(options.stateDirectory);
  const runId = randomBytes(4).toString("hex");
  const bundle = await buildFaultyBundle(
    path.join(options.stateDirectory, "drills", `bad-release-${runId}.js`),
    FAILURE_SHARE,
  );
  const timing = scaledTiming(LOCAL_RELEASE_DEFAULTS, state.timeScale);
  const rollbackBudgetMs = timing.canaryMs + timing.bakeMs + 2 * timing.pollMs;
  const firstWave = options.config.releaseWaves[0] ?? [];
  const startedAt = Date.now();
  const clock = () => Date.now() - startedAt;
  const traffic = startWrites(target, { runId, clock });
  progress(
    `drill ${runId}: bad release (${Math.round(FAILURE_SHARE * 100)}% of its requests fail) under writes from ${target.locations.join(", ")}; rollback budget ${rollbackBudgetMs} ms (canary ${timing.canaryMs} + bake ${timing.bakeMs} + 2 readings)`,
  );
  await sleep(Math.max(target.probeIntervalMs * 10, 1000));

  const releaseStartedMs = clock();
  let firstExposureMs: number | null = null;
  let rolledBackMs: number | null = null;
  const release = await releaseLocal({
    state,
    bundle,
    timing: LOCAL_RELEASE_DEFAULTS,
    onEvent: (event) => {
      progress(`  release +${(event.atMs / 1000).toFixed(1)} s  ${event.region ?? ""} ${event.event}`);
      if (event.event === "candidate serving") firstExposureMs ??= clock();
      // The last region put back ends the exposure.
      if (event.event.startsWith("rolled back to version")) rolledBackMs = clock();
    },
    log: (line) => progress(`  ${line}`),
  });
  // A moment of traffic after the rollback: the drill shows it stopped the failures.
  await sleep(Math.max(target.probeIntervalMs * 10, 1000));
  await traffic.stop();

  const { probes, ledger } = traffic;
  progress(`verifying: reading ${ledger.length} acknowledged writes back from ${target.regions.join(", ")} ...`);
  const settleMs = Math.max(10_000, rollbackBudgetMs);
  const lost = await lostAfterSettling(target, ledger, settleMs, progress);
  const divergence = await checkDivergence(
    target,
    ledger.map((entry) => entry.id),
    settleMs,
  );
  progress(
    `verified: ${lost.length} of ${ledger.length} acknowledged writes missing or changed; ${divergence.divergentItems} of ${divergence.compared} items differ between regions`,
  );

  const exposureToRollbackMs =
    firstExposureMs !== null && rolledBackMs !== null ? Math.max(0, rolledBackMs - firstExposureMs) : null;
  const exposedFrom = firstExposureMs;
  const failed =
    exposedFrom === null ? [] : probes.filter((probe) => probe.sentMs >= exposedFrom && !isSuccess(probe.status));
  const beyondFirstWave = release.exposedRegions.filter((region) => !firstWave.includes(region));
  const verdicts: string[] = [];
  if (release.outcome !== "rolled-back") verdicts.push("the faulty version was promoted");
  if (exposureToRollbackMs === null) verdicts.push("the release never rolled the faulty version back");
  else if (exposureToRollbackMs > rollbackBudgetMs)
    verdicts.push(
      `rolled back ${exposureToRollbackMs} ms after the first exposure, over the ${rollbackBudgetMs} ms budget`,
    );
  if (beyondFirstWave.length > 0)
    verdicts.push(`regions beyond the first wave served it: ${beyondFirstWave.join(", ")}`);
  if (lost.length > 0) verdicts.push(`${lost.length} acknowledged writes are missing from a region, or changed`);
  if (divergence.divergentItems > 0) verdicts.push(`${divergence.divergentItems} items differ between regions`);
  else if (divergence.reason !== null) verdicts.push(`convergence not verified: ${divergence.reason}`);

  const at = (ms: number | null) => (ms === null ? null : new Date(startedAt + ms).toISOString());
  const report: BadReleaseReport = {
    schemaVersion: 2,
    kind: "bad-release",
    mode: "bad-release",
    target: "local",
    stack: options.stack,
    entryPoint: target.entryPoint,
    regions: target.regions,
    firstWave,
    failureShare: FAILURE_SHARE,
    times: {
      startedAt: new Date(startedAt).toISOString(),
      releaseStartedAt: at(releaseStartedMs) as string,
      firstExposureAt: at(firstExposureMs),
      rolledBackAt: at(rolledBackMs),
      finishedAt: at(clock()) as string,
    },
    budget: { ...timing, rollbackMs: rollbackBudgetMs },
    measured: {
      requests: probes.length,
      failedRequests: failed.length,
      exposureToRollbackMs,
      exposedRegions: release.exposedRegions,
      acknowledgedWrites: ledger.length,
      lostAcknowledgedWrites: lost.length,
      lostIds: lost.slice(0, 50),
      divergence,
    },
    release,
    passed: verdicts.length === 0,
    failures: verdicts,
    probes: [...probes].sort((a, b) => a.sentMs - b.sentMs),
    timeline: null,
  };
  const checked = badReleaseSchema.safeParse(report);
  if (!checked.success) throw new Error(`the drill produced an invalid report: ${checked.error.issues[0]?.message}`);
  return report;
}

const seconds = (value: number | null) => (value === null ? "—" : `${(value / 1000).toFixed(2)} s`);

/** The terminal table's rows. */
export function badReleaseRows(report: BadReleaseReport): [string, string][] {
  const { measured } = report;
  return [
    [
      "drill",
      `bad release (${Math.round(report.failureShare * 100)}% failing) on stack ${report.stack} (${report.target})`,
    ],
    [
      "release",
      `${report.release.outcome}; waves ${report.release.waves.map((wave) => `${wave.regions.join("+")} ${wave.decision}`).join(", ")}`,
    ],
    [
      "first exposure to rollback",
      `${seconds(measured.exposureToRollbackMs)} (budget ${seconds(report.budget.rollbackMs)})`,
    ],
    [
      "regions exposed (first wave only)",
      `${measured.exposedRegions.join(", ") || "none"} (first wave: ${report.firstWave.join(", ")})`,
    ],
    ["requests / failed since exposure", `${measured.requests} / ${measured.failedRequests}`],
    ["acknowledged writes / lost (must be 0)", `${measured.acknowledgedWrites} / ${measured.lostAcknowledgedWrites}`],
    ["items differing between regions", `${measured.divergence.divergentItems} of ${measured.divergence.compared}`],
    [
      "final versions",
      Object.entries(report.release.finalVersions)
        .map(([region, version]) => `${region} ${version}`)
        .join(", "),
    ],
  ];
}

/** The drill as a picture: requests per time slice, failed ones in red, with exposure and rollback marked. */
export function badReleaseTimeline(report: BadReleaseReport): string {
  const [width, height, left, right, top, plotHeight] = [960, 340, 60, 20, 60, 220];
  const plotWidth = width - left - right;
  const start = Date.parse(report.times.startedAt);
  const totalMs = Math.max(1, Date.parse(report.times.finishedAt) - start);
  const slices = 80;
  const sliceMs = totalMs / slices;
  const x = (ms: number) => left + (ms / totalMs) * plotWidth;
  const counts = Array.from({ length: slices }, (_, index) => {
    const inSlice = report.probes.filter((p) => p.sentMs >= index * sliceMs && p.sentMs < (index + 1) * sliceMs);
    return { all: inSlice.length, failed: inSlice.filter((p) => !isSuccess(p.status)).length };
  });
  const most = Math.max(1, ...counts.map((count) => count.all));
  const barWidth = (plotWidth / slices).toFixed(1);
  const parts = counts.flatMap((count, index) => {
    const ok = ((count.all - count.failed) / most) * plotHeight;
    const bad = (count.failed / most) * plotHeight;
    const bottom = top + plotHeight;
    return [
      `<rect x="${x(index * sliceMs).toFixed(1)}" y="${(bottom - ok).toFixed(1)}" width="${barWidth}" height="${ok.toFixed(1)}" fill="#4e79a7"/>`,
      `<rect x="${x(index * sliceMs).toFixed(1)}" y="${(bottom - ok - bad).toFixed(1)}" width="${barWidth}" height="${bad.toFixed(1)}" fill="#e15759"/>`,
    ];
  });
  const marker = (iso: string | null, label: string, stroke: string, row: number) => {
    if (iso === null) return;
    parts.push(...timelineMarker(x(Date.parse(iso) - start), top, top + plotHeight, label, stroke, row));
  };
  marker(report.times.releaseStartedAt, "release starts (publish)", "#000", 0);
  marker(report.times.firstExposureAt, `canary ${report.firstWave.join(", ")}`, "#7b3294", 1);
  marker(report.times.rolledBackAt, "rolled back", "#1a9850", 2);
  const ticks = Array.from({ length: 6 }, (_, index) => (totalMs * index) / 5);
  const axis = ticks.map(
    (tick) =>
      `<text x="${x(tick).toFixed(1)}" y="${top + plotHeight + 16}" font-size="11" text-anchor="middle">${(tick / 1000).toFixed(1)} s</text>`,
  );
  const { measured } = report;
  const title = `bad-release drill (${report.target}): rolled back ${seconds(measured.exposureToRollbackMs)} after exposure (budget ${seconds(report.budget.rollbackMs)}), exposed ${measured.exposedRegions.join(", ") || "none"}, ${measured.failedRequests} failed requests, ${measured.lostAcknowledgedWrites} lost writes — ${report.passed ? "passed" : "FAILED"}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${left}" y="22" font-size="13" font-weight="bold">${escapeXml(title)}</text>`,
    `<rect x="${left}" y="${top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#ccc"/>`,
    ...parts,
    ...axis,
    `<rect x="${left}" y="${height - 18}" width="12" height="12" fill="#4e79a7"/><text x="${left + 16}" y="${height - 8}" font-size="12">requests served</text>`,
    `<rect x="${left + 180}" y="${height - 18}" width="12" height="12" fill="#e15759"/><text x="${left + 196}" y="${height - 8}" font-size="12">failed requests</text>`,
    "</svg>",
    "",
  ].join("\n");
}
