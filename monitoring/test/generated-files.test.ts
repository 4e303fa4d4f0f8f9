import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../shared/paths.js";
import { loadStack } from "../../shared/stack-file.js";
import { committedMonitoringFiles } from "../render.js";

describe("the generated monitoring files", () => {
  it("are what the prod stack renders: rules under monitoring/rules, the dashboard under monitoring/grafana and its console", () => {
    // Prepare
    const { config } = loadStack("prod");

    // Act
    const rendered = committedMonitoringFiles(config);

    // Assess
    expect(Object.keys(rendered).sort()).toEqual([
      "monitoring/consoles/calcburst.html",
      "monitoring/grafana/calcburst-global.json",
      "monitoring/rules/alerts.rules.yml",
      "monitoring/rules/global.rules.yml",
      "monitoring/rules/platform-aws.rules.yml",
      "monitoring/rules/platform-local.rules.yml",
      "monitoring/rules/regional.rules.yml",
    ]);
    for (const [file, text] of Object.entries(rendered)) {
      expect(readFileSync(path.join(PROJECT_ROOT, file), "utf8"), `${file} is stale: run npm run monitoring`).toBe(
        text,
      );
    }
  });
});
