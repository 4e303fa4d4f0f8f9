import { describe, expect, it } from "vitest";
import { loadStack } from "../../shared/stack-file.js";
import {
  DASHBOARD_TITLE,
  DASHBOARD_UID,
  DATASOURCE_VARIABLE,
  dashboardQueries,
  globalDashboard,
} from "../dashboard.js";

const { config } = loadStack("prod");

describe("the CalcBurst — global dashboard", () => {
  it("has a stable uid, its title, and a Prometheus datasource variable every panel uses", () => {
    // Act
    const dashboard = globalDashboard(config);

    // Assess
    expect([dashboard.uid, dashboard.title]).toEqual([DASHBOARD_UID, DASHBOARD_TITLE]);
    expect(DASHBOARD_TITLE).toBe("CalcBurst — global");
    expect(DATASOURCE_VARIABLE).toBe("datasource");
    expect(dashboard.templating?.list?.map((variable) => [variable.name, variable.type, variable.query])).toEqual([
      [DATASOURCE_VARIABLE, "datasource", "prometheus"],
    ]);
    const panels = (dashboard.panels ?? []).filter((panel) => panel.type !== "row");
    for (const panel of panels) {
      expect(panel.datasource, panel.title).toEqual({ type: "prometheus", uid: `\${${DATASOURCE_VARIABLE}}` });
      for (const target of "targets" in panel ? (panel.targets ?? []) : []) {
        expect((target as { refId?: string }).refId, panel.title).toMatch(/^[A-Z]$/);
      }
    }
  });

  it("shows per-region traffic, errors and latency, the traffic share, health, replication lag and budget burn", () => {
    // Act
    const queries = dashboardQueries(globalDashboard(config));

    // Assess: every view the failover drill and the SLO need reads the federated recordings.
    const panels = new Set(queries.map((query) => query.panel));
    expect([...panels]).toEqual([
      "Requests per second by region",
      "Traffic share by region (failover view)",
      "5xx ratio by region",
      "Latency by region (p50, p95, p99)",
      "Health by region",
      "Replication lag p99",
      "Throttled requests by region",
      "Error budget burn rate (1 h)",
      "Error budget remaining (30 d)",
    ]);
    for (const { panel, expr } of queries) {
      expect(expr, panel).toMatch(/\b(region|job):[a-z0-9_]+:[a-z0-9_]+|up\{job="federate"\}/);
    }
  });

  it("shows the legend on every time series panel", () => {
    const dashboard = globalDashboard(config);
    for (const panel of (dashboard.panels ?? []).filter((one) => one.type === "timeseries")) {
      const options = (panel as { options?: { legend?: { showLegend?: boolean } } }).options;
      expect(options?.legend?.showLegend, panel.title).toBe(true);
    }
  });
});
