import type { DataSourceRef } from "@grafana/grafana-foundation-sdk/common";
import {
  LegendDisplayMode,
  LegendPlacement,
  StackingConfigBuilder,
  StackingMode,
  VizLegendOptionsBuilder,
} from "@grafana/grafana-foundation-sdk/common";
import {
  type Dashboard,
  DashboardBuilder,
  DatasourceVariableBuilder,
  RowBuilder,
} from "@grafana/grafana-foundation-sdk/dashboard";
import { DataqueryBuilder } from "@grafana/grafana-foundation-sdk/prometheus";
import { PanelBuilder as StatPanelBuilder } from "@grafana/grafana-foundation-sdk/stat";
import { PanelBuilder as StateTimelinePanelBuilder } from "@grafana/grafana-foundation-sdk/statetimeline";
import { PanelBuilder as TimeseriesPanelBuilder } from "@grafana/grafana-foundation-sdk/timeseries";
import { REPLICATION_METRICS } from "../shared/metrics.js";
import type { StackConfig } from "../shared/stack-config.js";
import { JOBS } from "./rules.js";
import { BURN_RATE_ALERTS, DASHBOARD_WINDOW, errorBudget, slos } from "./slo.js";

/**
 * "CalcBurst — global": the global Prometheus's view of every region, as code
 * (grafana-foundation-sdk). One factory per panel; the panels read only the federated
 * `region:` and `job:` recordings, so the dashboard costs the global server nothing extra.
 */

export const DASHBOARD_UID = "calcburst-global";
export const DASHBOARD_TITLE = "CalcBurst — global";
export const DATASOURCE_VARIABLE = "datasource";

const datasource: DataSourceRef = { type: "prometheus", uid: `\${${DATASOURCE_VARIABLE}}` };

const PANEL_WIDTH = 12;
const PANEL_HEIGHT = 8;

function query(expr: string, legend: string, refId = "A") {
  return new DataqueryBuilder().expr(expr).legendFormat(legend).refId(refId).range();
}

function legend() {
  return new VizLegendOptionsBuilder()
    .showLegend(true)
    .displayMode(LegendDisplayMode.List)
    .placement(LegendPlacement.Bottom)
    .calcs([]);
}

/** The defaults every time series panel shares. */
function timeseries(title: string, description: string) {
  return new TimeseriesPanelBuilder()
    .title(title)
    .description(description)
    .datasource(datasource)
    .height(PANEL_HEIGHT)
    .span(PANEL_WIDTH)
    .legend(legend())
    .fillOpacity(10)
    .lineWidth(1);
}

const rate = (series: string) => `region:${series}:rate${DASHBOARD_WINDOW}`;

export function requestRatePanel() {
  return timeseries(
    "Requests per second by region",
    "User requests (health probes excluded) each region's function answered.",
  )
    .unit("reqps")
    .min(0)
    .withTarget(query(`sum by (region) (${rate("calcburst_requests")})`, "{{region}}"));
}

export function trafficSharePanel() {
  return timeseries(
    "Traffic share by region (failover view)",
    "Each region's share of all user requests. In a failover, the failed region's band goes to 0 and the others grow.",
  )
    .unit("percentunit")
    .min(0)
    .max(1)
    .stacking(new StackingConfigBuilder().mode(StackingMode.Normal))
    .withTarget(
      query(
        `sum by (region) (${rate("calcburst_requests")}) / scalar(sum(${rate("calcburst_requests")}))`,
        "{{region}}",
      ),
    );
}

export function errorRatioPanel() {
  return timeseries("5xx ratio by region", "Share of each region's user requests answered with a 5xx.")
    .unit("percentunit")
    .min(0)
    .withTarget(
      query(
        `sum by (region) (${rate("calcburst_requests_errors")}) / sum by (region) (${rate("calcburst_requests")})`,
        "{{region}}",
      ),
    );
}

export function latencyPanel(config: StackConfig) {
  return timeseries(
    "Latency by region (p50, p95, p99)",
    `The function's request duration. The latency objective is p99 under ${config.latencyObjectiveMs} ms.`,
  )
    .unit("s")
    .min(0)
    .withTarget(
      query(`region:calcburst_request_duration_seconds:quantile_rate${DASHBOARD_WINDOW}`, "{{region}} p{{quantile}}"),
    );
}

export function healthPanel() {
  return new StateTimelinePanelBuilder()
    .title("Health by region")
    .description(
      "1: /health answers 200 to the regional blackbox probe, as it must to Route 53. The federation row is whether the global Prometheus reaches the regional one.",
    )
    .datasource(datasource)
    .height(PANEL_HEIGHT)
    .span(PANEL_WIDTH)
    .min(0)
    .max(1)
    .withTarget(query("region:calcburst_health:probe_success", "{{region}} /health", "A"))
    .withTarget(query(`up{job="${JOBS.federate}"}`, "{{region}} federation", "B"));
}

export function replicationLagPanel(config: StackConfig) {
  return timeseries(
    "Replication lag p99",
    `How old a write is when another region has it. ReplicationLagHigh fires over ${config.replicationLagAlertSeconds} s.`,
  )
    .unit("s")
    .min(0)
    .withTarget(query(`region:${REPLICATION_METRICS.lag.name}:p99_rate5m`, "{{region}} → {{target_region}}"));
}

export function errorBudgetBurnPanel(config: StackConfig) {
  const fastest = BURN_RATE_ALERTS[0];
  const panel = timeseries(
    "Error budget burn rate (1 h)",
    `How many times faster than sustainable each SLO spends its budget; ${fastest?.burnRate ?? 14.4} over 1 h with 5 m pages.`,
  ).min(0);
  for (const [index, slo] of slos(config).entries()) {
    const budget = errorBudget(slo);
    panel.withTarget(
      query(
        `job:calcburst_${slo.sli}:ratio_rate1h / ${budget}`,
        slo.name.toLowerCase(),
        String.fromCharCode(65 + index),
      ),
    );
  }
  return panel;
}

export function errorBudgetRemainingPanel(config: StackConfig) {
  const panel = new StatPanelBuilder()
    .title("Error budget remaining (30 d)")
    .description("The share of each SLO's 30-day error budget not yet spent.")
    .datasource(datasource)
    .height(PANEL_HEIGHT)
    .span(PANEL_WIDTH)
    .unit("percentunit");
  for (const [index, slo] of slos(config).entries()) {
    panel.withTarget(
      query(`job:calcburst_${slo.sli}:error_budget_remaining`, slo.name.toLowerCase(), String.fromCharCode(65 + index)),
    );
  }
  return panel;
}

export function throttlePanel() {
  return timeseries(
    "Throttled requests by region",
    "429s before the function ran: stage throttling or no concurrency left.",
  )
    .unit("reqps")
    .min(0)
    .withTarget(query(`sum by (region) (${rate("calcburst_throttles")})`, "{{region}}"));
}

export function globalDashboard(config: StackConfig): Dashboard {
  return new DashboardBuilder(DASHBOARD_TITLE)
    .uid(DASHBOARD_UID)
    .description("Generated by `npm run monitoring` from monitoring/dashboard.ts. Do not edit by hand.")
    .tags(["calcburst", "generated"])
    .editable()
    .refresh("30s")
    .time({ from: "now-1h", to: "now" })
    .timezone("utc")
    .withVariable(new DatasourceVariableBuilder(DATASOURCE_VARIABLE).label("Prometheus").type("prometheus"))
    .withRow(new RowBuilder("Traffic"))
    .withPanel(requestRatePanel())
    .withPanel(trafficSharePanel())
    .withPanel(errorRatioPanel())
    .withPanel(latencyPanel(config))
    .withRow(new RowBuilder("Regions"))
    .withPanel(healthPanel())
    .withPanel(replicationLagPanel(config))
    .withPanel(throttlePanel())
    .withRow(new RowBuilder("Error budget"))
    .withPanel(errorBudgetBurnPanel(config))
    .withPanel(errorBudgetRemainingPanel(config))
    .build();
}

/** Every PromQL expression on the dashboard, with its panel: what the local-cloud test runs. */
export function dashboardQueries(dashboard: Dashboard): { panel: string; expr: string }[] {
  const queries: { panel: string; expr: string }[] = [];
  for (const panel of dashboard.panels ?? []) {
    if (!("targets" in panel)) continue;
    for (const target of panel.targets ?? []) {
      const expr = (target as { expr?: unknown }).expr;
      if (typeof expr === "string") queries.push({ panel: panel.title ?? "", expr });
    }
  }
  return queries;
}
