import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../shared/paths.js";
import { PROGRAM_RUN_DEADLINE_MS } from "./support/program.js";

const ROOT = PROJECT_ROOT;

describe("npm run plan", () => {
  it(
    "prints the resource tree by region and writes the committed diagram, resource inventory and deployer policy, with no CLI or credentials",
    () => {
      // Prepare
      const directory = mkdtempSync(path.join(tmpdir(), "calcburst-plan-"));
      const diagram = path.join(directory, "architecture.mmd");
      const policy = path.join(directory, "deployer-policy.json");
      const resources = path.join(directory, "RESOURCES.md");

      // Act
      const run = spawnSync(
        process.execPath,
        [
          "--import",
          "tsx",
          "scripts/plan.ts",
          "--stack",
          "prod",
          "--diagram",
          diagram,
          "--resources-doc",
          resources,
          "--deployer-policy",
          policy,
        ],
        {
          cwd: ROOT,
          encoding: "utf8",
          timeout: PROGRAM_RUN_DEADLINE_MS,
          env: { ...process.env, AWS_ACCESS_KEY_ID: "", AWS_PROFILE: "" },
        },
      );

      // Assess
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/stack prod \(Pulumi\.prod\.yaml\): \d+ resources in 8 components, under mocks/);
      expect(run.stdout).toMatch(/^us-east-1 — \d+ resources$/m);
      expect(run.stdout).toMatch(/^eu-west-1 — \d+ resources$/m);
      expect(run.stdout).toMatch(/^global \(Route 53\) — \d+ resources$/m);
      expect(run.stdout).toContain("lambda.Function                    calcburst-eu-west-1-function");
      const written = readFileSync(diagram, "utf8");
      expect(written).toMatch(/^flowchart LR\n/);
      expect(written).toContain("-- replicates -->");
      expect(readFileSync(resources, "utf8")).toContain(`\`\`\`mermaid\n${written}\`\`\``);
      // The committed diagram and docs/RESOURCES.md are what the program produces today.
      expect(readFileSync(path.join(ROOT, "docs", "architecture.mmd"), "utf8")).toBe(written);
      expect(readFileSync(path.join(ROOT, "docs", "RESOURCES.md"), "utf8")).toBe(readFileSync(resources, "utf8"));
      expect(readFileSync(path.join(ROOT, "infra", "deployer-policy.json"), "utf8")).toBe(readFileSync(policy, "utf8"));
      rmSync(directory, { recursive: true, force: true });
    },
    PROGRAM_RUN_DEADLINE_MS,
  );
});
