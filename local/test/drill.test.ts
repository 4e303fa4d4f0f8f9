import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FAILOVER_MODES, type FailoverReport, SELF_HEALING_MODES, schema } from "../../shared/drill-report.js";
import { useCloud } from "./support/cloud.js";
import { DRILL_TIMEOUT_MS, runDrillCli, useDrillOutput } from "./support/drill.js";

// The failover drills as a user runs them (npm run drill's command) against a running local cloud,
// time-scaled: every failover mode, each checked against its own budget, with every write read
// back and every region compared. Their verdicts in the cases that must fail, the conflict drill
// and the refusals are in drill-verdicts.test.ts, so the two files share the suite's two workers.

const cloud = useCloud(0.05);
const output = useDrillOutput();
const drill = (...args: string[]) => runDrillCli(cloud().stateDirectory, ...args);

describe("npm run drill against the local cloud", () => {
  it.each(FAILOVER_MODES.map((mode, index) => [mode, index % 2 === 0 ? "us-east-1" : "eu-west-1"]))(
    "drills %s within its RTO budget, loses no acknowledged write, and writes the report and timeline",
    (mode, region) => {
      // Prepare
      const json = path.join(output, `${mode}.json`);
      const svg = path.join(output, `${mode}.svg`);

      // Act
      const run = drill("--region", region, "--mode", mode, "--json", json, "--svg", svg);

      // Assess
      expect(run.status, run.stdout + run.stderr).toBe(0);
      const parsed = schema.safeParse(JSON.parse(readFileSync(json, "utf8")));
      expect(parsed.success).toBe(true);
      const report = parsed.data as FailoverReport;
      expect(report).toMatchObject({ kind: "failover", region, mode, target: "local", passed: true, failures: [] });
      expect(report.measured.lostAcknowledgedWrites).toBe(0);
      expect(report.measured.divergence).toMatchObject({ scope: "table", divergentItems: 0, reason: null });
      expect(report.measured.divergence.compared).toBeGreaterThanOrEqual(report.measured.acknowledgedWrites);
      expect(report.measured.outageWritesReplicatedBack).toBe(true);
      expect(report.measured.acknowledgedWrites).toBeGreaterThan(20);
      expect(report.measured.rtoAllServedMs).toBeLessThanOrEqual(report.budget.rtoMs);
      expect(report.measured.returnMs).not.toBeNull();
      if (SELF_HEALING_MODES.includes(mode)) {
        // The region's DynamoDB Local was killed and the supervisor brought another one back,
        // with the data it had: every write acknowledged before the kill was read back above.
        const killed = /DynamoDB Local \(pid (\d+)\) is killed with SIGKILL/.exec(run.stdout)?.[1];
        const back = /DynamoDB Local is back \(pid (\d+)\), restarted by the supervisor/.exec(run.stdout)?.[1];
        expect(killed, run.stdout).toBeDefined();
        expect(back, run.stdout).toBeDefined();
        expect(back).not.toBe(killed);
      } else {
        expect(report.measured.detectionMs).not.toBeNull();
        // The drill saw the failover: after the injection some requests were served by the other region.
        const injected = Date.parse(report.times.injectedAt) - Date.parse(report.times.startedAt);
        const other = region === "us-east-1" ? "eu-west-1" : "us-east-1";
        expect(
          report.probes.some(
            (probe) =>
              probe.sentMs > injected &&
              probe.location === (region === "us-east-1" ? "us" : "eu") &&
              probe.region === other,
          ),
        ).toBe(true);
      }
      expect(run.stdout).toMatch(/lost acknowledged writes \(must be 0\)\s+0/);
      expect(run.stdout).toMatch(/items that differ between regions \(must be 0\)\s+0 of \d+/);
      expect(run.stdout).toContain("PASSED");
      const picture = readFileSync(svg, "utf8");
      expect(picture).toMatch(/^<svg /);
      expect(picture).toContain(`${mode} drill on ${region} (local)`);
      expect(picture).toContain(">injected<");
      expect(picture).toContain(">restored<");
    },
    DRILL_TIMEOUT_MS + 30_000,
  );
});
