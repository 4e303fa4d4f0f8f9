import type { DrillReport } from "../../shared/drill-report.js";

const ms = (value: number | null) => (value === null ? "—" : `${(value / 1000).toFixed(2)} s`);

/** The terminal table: the figures first, then the verdict and why. */
export function renderTable(report: DrillReport): string {
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
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  const lines = rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`);
  const verdict = report.passed ? "PASSED" : `FAILED: ${report.failures.join("; ")}`;
  return [...lines, "", `  ${verdict}`, ...(report.timeline === null ? [] : [`  timeline: ${report.timeline}`])].join(
    "\n",
  );
}

const COLOURS = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948"];
const escapeXml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * The drill as a picture: per time slice, each region's share of the answered requests
 * (stacked) and the failed requests below, with the injection, detection, recovery and
 * restore marked. Plain SVG, no dependencies.
 */
export function renderTimeline(report: DrillReport): string {
  const width = 960;
  const height = 420;
  const left = 60;
  const right = 20;
  const shareTop = 50;
  const shareHeight = 220;
  const errorTop = shareTop + shareHeight + 30;
  const errorHeight = 60;
  const plotWidth = width - left - right;
  const start = Date.parse(report.times.startedAt);
  const totalMs = Math.max(1, Date.parse(report.times.finishedAt) - start);
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
    const at = x(Date.parse(iso) - start);
    parts.push(
      `<line x1="${at.toFixed(1)}" y1="${shareTop - 8}" x2="${at.toFixed(1)}" y2="${errorTop + errorHeight}" stroke="${stroke}" stroke-width="2" stroke-dasharray="5,3"/>`,
      `<text x="${(at + 4).toFixed(1)}" y="${shareTop - 12 + row * 12}" font-size="11" fill="${stroke}">${escapeXml(label)}</text>`,
    );
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
  const ticks = Array.from({ length: 6 }, (_, index) => (totalMs * index) / 5);
  const axis = ticks.map(
    (tick) =>
      `<text x="${x(tick).toFixed(1)}" y="${errorTop + errorHeight + 16}" font-size="11" text-anchor="middle">${(tick / 1000).toFixed(1)} s</text>`,
  );
  const legend = [...regions, "failed"].map(
    (region, index) =>
      `<rect x="${left + index * 160}" y="${height - 18}" width="12" height="12" fill="${region === "failed" ? "#e15759" : colour(region)}"/><text x="${left + index * 160 + 16}" y="${height - 8}" font-size="12">${region === "failed" ? "failed requests" : `${escapeXml(region)}${region === report.region ? " (drilled)" : ""}`}</text>`,
  );
  const title = `${report.mode} drill on ${report.region} (${report.target}): RTO ${report.measured.rtoAllServedMs === null ? "not reached" : `${(report.measured.rtoAllServedMs / 1000).toFixed(2)} s`} of ${(report.budget.rtoMs / 1000).toFixed(2)} s budget, ${report.measured.failedRequests} failed requests, ${report.measured.lostAcknowledgedWrites} lost writes — ${report.passed ? "passed" : "FAILED"}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${left}" y="22" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="10" y="${shareTop + shareHeight / 2}" font-size="11" transform="rotate(-90 10 ${shareTop + shareHeight / 2})">traffic share</text>`,
    `<text x="10" y="${errorTop + errorHeight}" font-size="11" transform="rotate(-90 10 ${errorTop + errorHeight})">failed</text>`,
    `<rect x="${left}" y="${shareTop}" width="${plotWidth}" height="${shareHeight}" fill="none" stroke="#ccc"/>`,
    `<rect x="${left}" y="${errorTop}" width="${plotWidth}" height="${errorHeight}" fill="none" stroke="#ccc"/>`,
    ...parts,
    ...axis,
    ...legend,
    "</svg>",
    "",
  ].join("\n");
}
