import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STARTER_QUERIES } from "../../monitoring/starter-queries.js";
import { capturePage, DASHBOARD_SCREENSHOT, pngDimensions } from "../monitoring/browser.js";
import { queryPrometheus } from "../monitoring/prometheus.js";
import { eventually, monitoringOf, ROOT, request, useCloud, writeFromEachLocation } from "./support/cloud.js";
import { steadyTraffic } from "./support/traffic.js";

// The dashboard, on one cloud with monitoring (a start of its own costs a JVM per region and five
// monitoring processes, so the family shares one):
// - the five starter queries the ready output and docs/LOCAL-CLOUD.md print return data on a cloud
//   that has served a little traffic, each on the Prometheus they name;
// - the dashboard console, opened in a real browser (Debian's headless Chromium) while the cloud
//   serves traffic: each graph drew series, the traffic graphs one per region.

const cloud = useCloud(0.05, { monitoring: true });

interface DrawnPanel {
  title: string;
  /** SVG paths with drawing commands: the lines or areas Rickshaw drew. */
  paths: number;
  /** The names in the graph's legend. */
  legend: string[];
  empty: boolean;
}

/** Each graph panel of the console's DOM, after its scripts ran. */
function drawnPanels(dom: string): DrawnPanel[] {
  return dom
    .split('<section class="calcburst-panel">')
    .slice(1)
    .filter((section) => section.includes('class="calcburst-graph"'))
    .map((section) => ({
      title: /<h3>([^<]*)<\/h3>/.exec(section)?.[1] ?? "",
      paths: (section.match(/<path[^>]* d="M[^"]+"/g) ?? []).length,
      legend: [...section.matchAll(/<span class="label">([^<]*)<\/span>/g)].map((match) => match[1] ?? ""),
      empty: section.includes("No timeseries returned"),
    }));
}

/** How long federation and the recordings get to show both regions (it passed the default 30 s test timeout under load). */
const STARTER_QUERIES_DEADLINE_MS = 60_000;

describe("the starter queries", () => {
  it("are printed in the ready output and in docs/LOCAL-CLOUD.md, with the server that holds each", async () => {
    // Prepare
    const docs = readFileSync(path.join(ROOT, "docs", "LOCAL-CLOUD.md"), "utf8");
    const { global } = monitoringOf(cloud().state());

    // Act: the guide follows the ready line.
    const output = await eventually(
      "the starter queries in the ready output",
      async () => {
        const text = cloud().output();
        return STARTER_QUERIES.every(({ expr }) => text.includes(expr)) ? text : undefined;
      },
      10_000,
    );

    // Assess
    expect(STARTER_QUERIES).toHaveLength(5);
    for (const { expr } of STARTER_QUERIES) expect(docs).toContain(`\`${expr}\``);
    expect(output).toContain(`dashboard: ${global.console}`);
    expect(output).toMatch(/raw series .* are in each region's Prometheus/);
  });

  it(
    "each return data for both regions once the cloud has served traffic from both locations",
    async () => {
      // Prepare: traffic in each region, so every raw and federated series exists.
      const { global, regional } = monitoringOf(cloud().state());
      for (const written of await writeFromEachLocation(cloud().routerUrl, { operation: "add", operands: [1, 2] })) {
        expect(written.status).toBe(201);
      }

      // Act: federation and the recordings take a few scaled intervals; keep writing meanwhile.
      const answers = new Map<string, string[]>();
      await eventually(
        "every starter query to answer for both regions",
        async () => {
          await request(cloud().routerUrl, {
            path: "/v1/calculations",
            location: "eu",
            body: { operation: "abs", operands: [-1] },
          });
          for (const { server, expr } of STARTER_QUERIES) {
            const servers =
              server === "global"
                ? [{ name: "global", url: global.prometheus }]
                : Object.entries(regional).map(([region, urls]) => ({ name: region, url: urls.prometheus }));
            for (const { name, url } of servers) {
              const result = await queryPrometheus(url, expr);
              const regions = [...new Set(result.map(({ metric }) => metric.region ?? name))].sort();
              answers.set(`${name}: ${expr}`, regions);
            }
          }
          const complete = [...answers.entries()].every(([key, regions]) =>
            key.startsWith("global:") ? regions.length === 2 : regions.length > 0,
          );
          return complete ? true : undefined;
        },
        STARTER_QUERIES_DEADLINE_MS,
        500,
      ).catch(() => undefined);

      // Assess
      for (const [key, regions] of answers) {
        if (key.startsWith("global:")) expect(regions, key).toEqual(["eu-west-1", "us-east-1"]);
        else expect(regions.length, key).toBeGreaterThan(0);
      }
      expect(answers.size).toBe(3 + 2 * 2);
      // The test's own time beyond the deadline: the writes before it, and the assessment.
    },
    STARTER_QUERIES_DEADLINE_MS + 60_000,
  );
});

describe("the dashboard console", () => {
  let traffic: ReturnType<typeof steadyTraffic>;
  // Only while the console's tests run: the starter queries above must find data from their own
  // requests alone.
  beforeAll(() => {
    traffic = steadyTraffic(cloud().routerUrl);
  });
  afterAll(async () => {
    await traffic?.stop();
  });

  it("draws every graph, with both regions in the traffic graphs, in a real browser while traffic flows", async () => {
    // Prepare: both regions' federated rates exist (they take a few scaled intervals).
    const { global } = monitoringOf(cloud().state());
    await eventually(
      "both regions' request rates in the global Prometheus",
      async () =>
        (await queryPrometheus(global.prometheus, "region:calcburst_requests:rate1m")).length === 2 || undefined,
      60_000,
      500,
    );

    // Act: the replication-lag quantile needs a few scaled minutes of data; look until it is drawn.
    let panels: DrawnPanel[] = [];
    await eventually(
      "every graph of the console drawn",
      async () => {
        const dom = await capturePage(
          `${global.console}?range=300`,
          { kind: "dom" },
          {
            scriptBudgetMs: 10_000,
            timeoutMs: 90_000,
          },
        );
        panels = drawnPanels(dom);
        return panels.length > 0 && panels.every((panel) => !panel.empty && panel.paths > 0) ? true : undefined;
      },
      120_000,
      1000,
    ).catch(() => undefined);

    // Assess
    expect(panels.map(({ title }) => title)).toContain("Requests per second by region");
    expect(panels.filter((panel) => panel.empty || panel.paths === 0)).toEqual([]);
    for (const title of ["Requests per second by region", "Traffic share by region (failover view)"]) {
      const panel = panels.find((one) => one.title === title);
      expect(panel?.legend.slice().sort(), title).toEqual(["eu-west-1", "us-east-1"]);
    }
    // A legend's text after its last label survives ("[[region]] /health", not just the region).
    expect(panels.find((one) => one.title === "Health by region")?.legend).toContain("us-east-1 /health");
    expect(traffic.sent()).toBeGreaterThan(0);
  }, 300_000);

  it("screenshots as a full page, like the committed docs/dashboard.png", async () => {
    // Prepare
    const { global } = monitoringOf(cloud().state());
    const directory = mkdtempSync(path.join(tmpdir(), "calcburst-console-"));
    const file = path.join(directory, "dashboard.png");

    // Act: the command a person runs to refresh docs/dashboard.png.
    const run = spawnSync(
      process.execPath,
      ["--import", "tsx", "local/cli.ts", "screenshot", "--out", file, "--state-dir", cloud().stateDirectory],
      { cwd: ROOT, encoding: "utf8", timeout: 150_000 },
    );

    // Assess: the size of the picture, and bytes enough that it is no blank page.
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(global.console);
    const committed = path.join(ROOT, "docs", "dashboard.png");
    for (const png of [file, committed]) {
      expect(pngDimensions(readFileSync(png)), png).toEqual(DASHBOARD_SCREENSHOT);
      expect(statSync(png).size, png).toBeGreaterThan(50_000);
    }
    rmSync(directory, { recursive: true, force: true });
  }, 180_000);
});
