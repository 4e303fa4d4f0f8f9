import { STARTER_QUERIES } from "../../monitoring/starter-queries.js";
import type { MonitoringState } from "./monitoring.js";

/** What the ready output says about monitoring: where to look, which server holds what, what to ask. */
export function monitoringGuide(state: MonitoringState): string[] {
  const regional = Object.entries(state.regional);
  const lines = [
    `dashboard: ${state.global.console}`,
    `  the Grafana dashboard's panels as a Prometheus console, on the global Prometheus (the federated series)`,
    `monitoring: global Prometheus ${state.global.prometheus}/classic/graph   Alertmanager ${state.alertmanager.url}`,
    ...regional.map(([region, urls]) => `  ${region} Prometheus ${urls.prometheus}/classic/graph`),
    "  raw series (calcburst_requests_total, ...) are in each region's Prometheus; the global one holds only",
    "  the federated region: recordings, its job: series and the alerts. Starter queries:",
  ];
  for (const query of STARTER_QUERIES) {
    const where = query.server === "global" ? "the global Prometheus" : "a region's Prometheus";
    lines.push(`    ${query.expr}`, `        on ${where}: ${query.shows}`);
  }
  return lines;
}
