import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { STARTER_QUERIES } from "../../monitoring/starter-queries.js";
import { queryPrometheus } from "../monitoring/prometheus.js";
import { eventually, monitoringOf, ROOT, request, useCloud } from "./support/cloud.js";

// The five starter queries the ready output and docs/LOCAL-CLOUD.md print return data on a cloud
// that has served a little traffic, each on the Prometheus they name.

const cloud = useCloud(0.05, { monitoring: true });

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

  it("each return data for both regions once the cloud has served traffic from both locations", async () => {
    // Prepare: traffic in each region, so every raw and federated series exists.
    const { global, regional } = monitoringOf(cloud().state());
    for (const location of ["us", "eu", "us", "eu"]) {
      const written = await request(cloud().routerUrl, {
        path: "/v1/calculations",
        location,
        body: { operation: "add", operands: [1, 2] },
      });
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
      60_000,
      500,
    ).catch(() => undefined);

    // Assess
    for (const [key, regions] of answers) {
      if (key.startsWith("global:")) expect(regions, key).toEqual(["eu-west-1", "us-east-1"]);
      else expect(regions.length, key).toBeGreaterThan(0);
    }
    expect(answers.size).toBe(3 + 2 * 2);
  });
});
