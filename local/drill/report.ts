import type { ConflictReport, DivergenceCheck, DrillReport, FailoverReport, Probe } from "../../shared/drill-report.js";
import { badReleaseRows, badReleaseTimeline } from "./bad-release.js";

const ms = (value: number | null) => (value === null ? "—" : `${(value / 1000).toFixed(2)} s`);

const divergenceLine = (divergence: DivergenceCheck) =>
  `${divergence.divergentItems} of ${divergence.compared} (${divergence.scope === "table" ? "every item of every region" : "the drill's ids"})${divergence.reason === null ? "" : `; ${divergence.reason}`}`;

/** Rows as aligned `name  value` lines, then the verdict and where the timeline is. */
function tableOf(report: DrillReport, rows: [string, string][]): string {
  const width = Math.max(...rows.map(([name]) => name.length));
  const lines = rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`);
  const verdict = report.passed ? "PASSED" : `FAILED: ${report.failures.join("; ")}`;
  return [...lines, "", `  ${verdict}`, ...(report.timeline === null ? [] : [`  timeline: ${report.timeline}`])].join(
    "\n",
  );
}

/** The terminal table: the figures first, then the verdict and why. */
export function renderTable(report: DrillReport): string {
  if (report.kind === "bad-release") return tableOf(report, badReleaseRows(report));
  return report.kind === "conflict" ? conflictTable(report) : failoverTable(report);
}

function conflictTable(report: ConflictReport): string {
  const { measured } = report;
  const rows: [string, string][] = [
    ["drill", `conflict over ${report.regions.join(", ")} (${report.target}, stack ${report.stack})`],
    ["racing pairs / requests", `${measured.pairs} / ${measured.requests}`],
    ["acknowledged writes", String(measured.acknowledgedWrites)],
    ["same-region acknowledged writes lost (must be 0)", String(measured.sameRegionAcknowledgedLost)],
    [
      "cross-region acknowledged writes superseded (MREC)",
      `${measured.crossRegionAcknowledgedSuperseded} (both regions acknowledged ${measured.crossRegionBothAcknowledged} pairs)`,
    ],
    ["items that differ between regions (must be 0)", divergenceLine(measured.divergence)],
    ["ids no region would read back (must be 0)", String(measured.unreadableIds.length)],
    ...report.pairings.map((pairing): [string, string] => [
      `  ${pairing.scope} ${pairing.kinds.join("/")} ${pairing.scope === "same-region" ? pairing.regions[0] : pairing.regions.join(" vs ")}`,
      `${pairing.pairs} pairs: both acknowledged ${pairing.bothAcknowledged}, neither ${pairing.neitherAcknowledged}, superseded ${pairing.acknowledgedSuperseded}`,
    ]),
  ];
  return tableOf(report, rows);
}

function failoverTable(report: FailoverReport): string {
  const { measured, budget } = report;
  const rows: [string, string][] = [
    ["drill", `${report.mode} on ${report.region} (${report.target}, stack ${report.stack})`],
    ["entry point", `${report.entryPoint}, clients in ${report.locations.join(", ")}`],
    [
      "RTO budget",
      `${ms(budget.rtoMs)} = detection ${ms(budget.detectionMs)} + TTL ${ms(budget.ttlMs)} + slack ${ms(budget.slackMs)}`,
    ],
    ["time to detection", ms(measured.detectionMs)],
    ["RTO: to the last client error", ms(measured.rtoLastErrorMs)],
    ["RTO: to every location served by a healthy region", ms(measured.rtoAllServedMs)],
    ["back to latency routing after the restore", ms(measured.returnMs)],
    ["requests (whole drill) / failed during the outage", `${measured.requests} / ${measured.failedRequests}`],
    ["acknowledged writes", String(measured.acknowledgedWrites)],
    ["RPO exposure (acknowledged, unreadable in survivors)", String(measured.rpoExposure)],
    ["lost acknowledged writes (must be 0)", String(measured.lostAcknowledgedWrites)],
    ["outage writes replicated back", measured.outageWritesReplicatedBack ? "yes" : "NO"],
    [
      "replication lag p50 / p99",
      measured.replicationLag === null
        ? "not reported by this target"
        : `${measured.replicationLag.p50Ms ?? "—"} ms / ${measured.replicationLag.p99Ms ?? "—"} ms`,
    ],
    ["items that differ between regions (must be 0)", divergenceLine(measured.divergence)],
    ...(report.unhealthy === undefined
      ? []
      : [["regions marked unhealthy", unhealthyLine(report)] as [string, string]]),
    ...(report.overloaded === undefined ? [] : [["machine", report.overloaded] as [string, string]]),
  ];
  return tableOf(report, rows);
}

/** Each region the health checks marked unhealthy, when, and whether the fault was injected there. */
export function unhealthyLine(report: FailoverReport): string {
  const periods = report.unhealthy ?? [];
  if (periods.length === 0) return "none";
  const seconds = (value: number) => `${(value / 1000).toFixed(1)} s`;
  return periods
    .map(
      ({ region, fromMs, toMs }) =>
        `${region}${region === report.region ? " (injected)" : " (NOT the injected region)"} ${seconds(fromMs)}–${toMs === null ? "end" : seconds(toMs)}`,
    )
    .join("; ");
}

const COLOURS = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948"];
export const escapeXml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** A dashed vertical line across a timeline's plots, labelled above them in its row. */
export function timelineMarker(
  at: number,
  top: number,
  bottom: number,
  label: string,
  stroke: string,
  row: number,
): string[] {
  return [
    `<line x1="${at.toFixed(1)}" y1="${top - 8}" x2="${at.toFixed(1)}" y2="${bottom}" stroke="${stroke}" stroke-width="2" stroke-dasharray="5,3"/>`,
    `<text x="${(at + 4).toFixed(1)}" y="${top - 12 + row * 12}" font-size="11" fill="${stroke}">${escapeXml(label)}</text>`,
  ];
}

/** The drill as a picture (plain SVG, no dependencies). */
export function renderTimeline(report: DrillReport): string {
  if (report.kind === "bad-release") return badReleaseTimeline(report);
  return report.kind === "conflict" ? conflictTimeline(report) : failoverTimeline(report);
}

/**
 * The conflict drill as a picture: per time slice, the racing requests by what they got
 * (acknowledged by each region, refused with 409, not acknowledged), stacked, with the end of
 * the races and the moment every region was read back marked.
 */
function conflictTimeline(report: ConflictReport): string {
  const [width, height, left, right, top, plotHeight] = [960, 370, 60, 20, 60, 240];
  const plotWidth = width - left - right;
  const start = Date.parse(report.times.startedAt);
  const totalMs = Math.max(1, Date.parse(report.times.finishedAt) - start);
  const slices = 80;
  const sliceMs = totalMs / slices;
  const x = (at: number) => left + (at / totalMs) * plotWidth;
  const classes: { label: string; colour: string; holds: (probe: Probe) => boolean }[] = [
    ...report.regions.map((region, index) => ({
      label: `acknowledged by ${region}`,
      colour: COLOURS[index % COLOURS.length] ?? "#888",
      holds: (probe: Probe) => probe.status >= 200 && probe.status < 300 && probe.region === region,
    })),
    { label: "409 (key holds another body)", colour: "#bab0ac", holds: (probe) => probe.status === 409 },
    {
      label: "not acknowledged (503, none)",
      colour: "#e15759",
      holds: (probe) => probe.status !== 409 && (probe.status < 200 || probe.status >= 300),
    },
  ];
  const perSlice = Array.from({ length: slices }, (_, index) =>
    report.probes.filter((probe) => probe.sentMs >= index * sliceMs && probe.sentMs < (index + 1) * sliceMs),
  );
  const most = Math.max(1, ...perSlice.map((inSlice) => inSlice.length));
  const parts: string[] = [];
  perSlice.forEach((inSlice, index) => {
    let y = top + plotHeight;
    for (const kind of classes) {
      const count = inSlice.filter(kind.holds).length;
      if (count === 0) continue;
      const h = (count / most) * plotHeight;
      y -= h;
      parts.push(
        `<rect x="${x(index * sliceMs).toFixed(1)}" y="${y.toFixed(1)}" width="${(plotWidth / slices).toFixed(1)}" height="${h.toFixed(1)}" fill="${kind.colour}"/>`,
      );
    }
  });
  for (const [iso, label] of [
    [report.times.racesEndedAt, "races end"],
    [report.times.settledAt, "read back"],
  ] as const) {
    const at = x(Date.parse(iso) - start);
    // A label near the right edge goes on the line's left, so it is not cut off.
    const anchor = at > width - right - 80 ? "end" : "start";
    parts.push(
      `<line x1="${at.toFixed(1)}" y1="${top - 8}" x2="${at.toFixed(1)}" y2="${top + plotHeight}" stroke="#000" stroke-width="2" stroke-dasharray="5,3"/>`,
      `<text x="${(anchor === "end" ? at - 4 : at + 4).toFixed(1)}" y="${top - 10}" font-size="11" text-anchor="${anchor}">${escapeXml(label)}</text>`,
    );
  }
  const axis = [0, 0.5, 1].map(
    (share) =>
      `<text x="${left - 6}" y="${(top + plotHeight - share * plotHeight + 4).toFixed(1)}" font-size="11" text-anchor="end">${Math.round(share * most)}</text>`,
  );
  const ticks = Array.from({ length: 6 }, (_, index) => (totalMs * index) / 5).map(
    (tick) =>
      `<text x="${x(tick).toFixed(1)}" y="${top + plotHeight + 16}" font-size="11" text-anchor="middle">${(tick / 1000).toFixed(1)} s</text>`,
  );
  const legend = classes.map(
    (kind, index) =>
      `<rect x="${left + (index % 3) * 290}" y="${height - 40 + Math.floor(index / 3) * 16}" width="12" height="12" fill="${kind.colour}"/><text x="${left + (index % 3) * 290 + 16}" y="${height - 30 + Math.floor(index / 3) * 16}" font-size="12">${escapeXml(kind.label)}</text>`,
  );
  const { measured } = report;
  const title = `conflict drill over ${report.regions.join(", ")} (${report.target}): ${report.passed ? "passed" : "FAILED"}`;
  const subtitle = `${measured.pairs} racing pairs · same-region acknowledged writes lost ${measured.sameRegionAcknowledgedLost} · cross-region superseded ${measured.crossRegionAcknowledgedSuperseded} · ${measured.divergence.divergentItems} items differ between regions`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<title>${escapeXml(`${title}; ${subtitle}`)}</title>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${left}" y="18" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${left}" y="34" font-size="12">${escapeXml(subtitle)}</text>`,
    `<text x="12" y="${top + plotHeight / 2}" font-size="11" transform="rotate(-90 12 ${top + plotHeight / 2})">requests sent per slice</text>`,
    `<rect x="${left}" y="${top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#ccc"/>`,
    ...parts,
    ...axis,
    ...ticks,
    ...legend,
    "</svg>",
    "",
  ].join("\n");
}

/**
 * A failover drill as a picture: per time slice, each region's share of the answered requests
 * (stacked) and the failed requests below, with the injection, detection, recovery and
 * restore marked.
 */
function failoverTimeline(report: FailoverReport): string {
  const width = 960;
  const height = 460;
  const left = 60;
  const right = 20;
  const shareTop = 50;
  const shareHeight = 220;
  const errorTop = shareTop + shareHeight + 30;
  const errorHeight = 60;
  const plotWidth = width - left - right;
  const start = Date.parse(report.times.startedAt);
  // The axis ends with the last thing to show, not at finishedAt: reading the writes back after
  // the traffic stopped can take longer than the drill itself and would leave the plot empty.
  const lastProbeMs = Math.max(0, ...report.probes.map((probe) => probe.endedMs));
  const returnedMs =
    report.measured.returnMs === null ? 0 : Date.parse(report.times.restoredAt) - start + report.measured.returnMs;
  const totalMs = Math.max(1, Math.max(lastProbeMs, returnedMs, Date.parse(report.times.restoredAt) - start) * 1.02);
  const slices = 80;
  const sliceMs = totalMs / slices;
  const regions = [
    ...new Set([report.region, ...Object.values(report.preferredRegion), ...report.probes.map((p) => p.region ?? "")]),
  ].filter((region) => region !== "");
  const colour = (region: string) => COLOURS[regions.indexOf(region) % COLOURS.length] ?? "#888";
  const x = (at: number) => left + (at / totalMs) * plotWidth;
  const parts: string[] = [];
  const maxErrors = Math.max(
    1,
    ...Array.from(
      { length: slices },
      (_, index) =>
        report.probes.filter(
          (p) => p.sentMs >= index * sliceMs && p.sentMs < (index + 1) * sliceMs && (p.status < 200 || p.status >= 300),
        ).length,
    ),
  );
  for (let index = 0; index < slices; index++) {
    const inSlice = report.probes.filter((p) => p.sentMs >= index * sliceMs && p.sentMs < (index + 1) * sliceMs);
    const served = inSlice.filter((p) => p.status >= 200 && p.status < 300);
    const failed = inSlice.length - served.length;
    let y = shareTop + shareHeight;
    for (const region of regions) {
      const count = served.filter((p) => p.region === region).length;
      if (count === 0 || inSlice.length === 0) continue;
      const h = (count / inSlice.length) * shareHeight;
      y -= h;
      parts.push(
        `<rect x="${x(index * sliceMs).toFixed(1)}" y="${y.toFixed(1)}" width="${(plotWidth / slices).toFixed(1)}" height="${h.toFixed(1)}" fill="${colour(region)}"/>`,
      );
    }
    if (failed > 0) {
      // In the share band failures take their share too, so every slice adds up to 1.
      const share = (failed / inSlice.length) * shareHeight;
      parts.push(
        `<rect x="${x(index * sliceMs).toFixed(1)}" y="${(y - share).toFixed(1)}" width="${(plotWidth / slices).toFixed(1)}" height="${share.toFixed(1)}" fill="#f4b6b6"/>`,
      );
      const h = (failed / maxErrors) * errorHeight;
      parts.push(
        `<rect x="${x(index * sliceMs).toFixed(1)}" y="${(errorTop + errorHeight - h).toFixed(1)}" width="${(plotWidth / slices).toFixed(1)}" height="${h.toFixed(1)}" fill="#e15759"/>`,
      );
    }
  }
  const marker = (iso: string | null, label: string, stroke: string, row: number) => {
    if (iso === null) return;
    parts.push(...timelineMarker(x(Date.parse(iso) - start), shareTop, errorTop + errorHeight, label, stroke, row));
  };
  const injected = Date.parse(report.times.injectedAt) - start;
  marker(report.times.injectedAt, "injected", "#000", 0);
  marker(report.times.detectedAt, "detected", "#7b3294", 1);
  if (report.measured.rtoAllServedMs !== null) {
    marker(new Date(start + injected + report.measured.rtoAllServedMs).toISOString(), "recovered", "#1a9850", 2);
  }
  marker(report.times.restoredAt, "restored", "#2166ac", 0);
  if (report.measured.returnMs !== null) {
    marker(
      new Date(Date.parse(report.times.restoredAt) + report.measured.returnMs).toISOString(),
      "back on latency routing",
      "#2166ac",
      1,
    );
  }
  // Unhealthy periods as the health checks saw them: a hatched strip per region above the plot.
  for (const { region, fromMs, toMs } of report.unhealthy ?? []) {
    const row = regions.indexOf(region);
    const from = x(Math.min(fromMs, totalMs));
    const to = x(Math.min(toMs ?? totalMs, totalMs));
    parts.push(
      `<rect x="${from.toFixed(1)}" y="${shareTop + row * 6}" width="${Math.max(1, to - from).toFixed(1)}" height="5" fill="${colour(region)}" stroke="#000" stroke-width="0.5"><title>${escapeXml(`${region} unhealthy ${(fromMs / 1000).toFixed(1)}–${toMs === null ? "end" : (toMs / 1000).toFixed(1)} s`)}</title></rect>`,
    );
  }
  const ticks = Array.from({ length: 6 }, (_, index) => (totalMs * index) / 5);
  const axis = [
    ...ticks.map(
      (tick) =>
        `<text x="${x(tick).toFixed(1)}" y="${errorTop + errorHeight + 16}" font-size="11" text-anchor="middle">${(tick / 1000).toFixed(1)} s</text>`,
    ),
    `<text x="${(left + plotWidth / 2).toFixed(1)}" y="${errorTop + errorHeight + 30}" font-size="11" text-anchor="middle">seconds since the drill started</text>`,
    // y scales: the share band in percent, the failure band in requests per slice.
    ...[0, 0.5, 1].map(
      (share) =>
        `<text x="${left - 6}" y="${(shareTop + shareHeight - share * shareHeight + 4).toFixed(1)}" font-size="11" text-anchor="end">${share * 100}%</text>`,
    ),
    `<text x="${left - 6}" y="${errorTop + errorHeight + 4}" font-size="11" text-anchor="end">0</text>`,
    `<text x="${left - 6}" y="${errorTop + 8}" font-size="11" text-anchor="end">${maxErrors}</text>`,
  ];
  const entries: { label: string; fill: string }[] = [
    ...regions.map((region) => ({
      label: `served by ${region}${region === report.region ? " (drilled)" : ""}`,
      fill: colour(region),
    })),
    { label: "failed (share of the slice)", fill: "#f4b6b6" },
    { label: `failed requests per slice (${(sliceMs / 1000).toFixed(2)} s)`, fill: "#e15759" },
    ...((report.unhealthy ?? []).length > 0 ? [{ label: "strip: marked unhealthy", fill: "#fff" }] : []),
  ];
  const legend = entries.map(
    ({ label, fill }, index) =>
      `<rect x="${left + (index % 3) * 300}" y="${height - 34 + Math.floor(index / 3) * 16}" width="12" height="12" fill="${fill}" stroke="#999" stroke-width="0.5"/><text x="${left + (index % 3) * 300 + 16}" y="${height - 24 + Math.floor(index / 3) * 16}" font-size="12">${escapeXml(label)}</text>`,
  );
  const title = `${report.mode} drill on ${report.region} (${report.target}): RTO ${report.measured.rtoAllServedMs === null ? "not reached" : `${(report.measured.rtoAllServedMs / 1000).toFixed(2)} s`} of ${(report.budget.rtoMs / 1000).toFixed(2)} s budget, ${report.measured.failedRequests} failed requests, ${report.measured.lostAcknowledgedWrites} lost writes — ${report.passed ? "passed" : "FAILED"}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${left}" y="22" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="14" y="${shareTop + shareHeight / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 14 ${shareTop + shareHeight / 2})">share of requests sent</text>`,
    `<text x="14" y="${errorTop + errorHeight / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 14 ${errorTop + errorHeight / 2})">failed</text>`,
    `<rect x="${left}" y="${shareTop}" width="${plotWidth}" height="${shareHeight}" fill="none" stroke="#ccc"/>`,
    `<rect x="${left}" y="${errorTop}" width="${plotWidth}" height="${errorHeight}" fill="none" stroke="#ccc"/>`,
    ...parts,
    ...axis,
    ...legend,
    "</svg>",
    "",
  ].join("\n");
}
