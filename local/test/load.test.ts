import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadStack } from "../../shared/stack-file.js";
import { useCloud } from "./support/cloud.js";
import { runLoad } from "./support/load-cli.js";

// npm run load as a user runs it: real artillery against the running local cloud (what needs
// no cloud is in load-cli.test.ts, beside the other files: this one runs alone).

const cloud = useCloud(0.05);
const output = mkdtempSync(path.join(tmpdir(), "calcburst-load-"));
afterAll(() => rmSync(output, { recursive: true, force: true }));

interface ArtilleryReport {
  aggregate: { counters: Record<string, number>; summaries: Record<string, { p99: number }> };
}

describe("npm run load", () => {
  it("passes the smoke scenario against the local cloud, with the SLO's thresholds and the expected 4xx", () => {
    // Prepare
    const report = path.join(output, "smoke.json");

    // Act
    const run = runLoad("smoke", "--state-dir", cloud().stateDirectory, "--output", report);

    // Assess
    expect(run.status, run.stdout + run.stderr).toBe(0);
    const { config } = loadStack("prod");
    expect(run.stdout).toContain(`ok: http.response_time.p99 < ${config.latencyObjectiveMs}`);
    expect(run.stdout).toContain("ok: vusers.failed <= vusers.created * 0.0005");
    expect(run.stdout).toContain("ensure: the SLO thresholds held");
    expect(run.stdout).toMatch(
      new RegExp(
        `p99 response time \\d+(\\.\\d+)? ms, under the ${config.latencyObjectiveMs} ms latency objective: held`,
      ),
    );
    expect(run.stdout).toMatch(/failed users 0 of \d+ \(0%\), within the 0\.05% error budget: held/);
    const { counters } = (JSON.parse(readFileSync(report, "utf8")) as ArtilleryReport).aggregate;
    expect(counters["http.codes.201"]).toBeGreaterThan(20);
    expect(counters["http.codes.200"]).toBe(counters["http.codes.201"]);
    expect((counters["http.codes.400"] ?? 0) + (counters["http.codes.422"] ?? 0)).toBeGreaterThan(0);
    expect(counters["vusers.failed"]).toBe(0);
    expect(Object.keys(counters).filter((name) => /^http\.codes\.5/.test(name))).toEqual([]);
  });

  it("runs a drill during failover-under-load: the drill passes and the errors stay within one failover's share", () => {
    // Prepare
    const report = path.join(output, "failover.json");

    // Act
    const run = runLoad("failover-under-load", "--state-dir", cloud().stateDirectory, "--output", report);

    // Assess
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/drill: inject: us-east-1's API is stopped/);
    expect(run.stdout).toMatch(/lost acknowledged writes \(must be 0\)\s+0/);
    expect(run.stdout).toContain("ok: vusers.failed <= vusers.created * 0.25");
    expect(run.stdout).toContain("ensure: the SLO thresholds held");
    expect(run.stdout).toMatch(/failed users \d+ of \d+ \([\d.]+%\), within one failover's 25% allowance: held/);
    const { counters } = (JSON.parse(readFileSync(report, "utf8")) as ArtilleryReport).aggregate;
    expect(counters["http.codes.201"]).toBeGreaterThan(100);
  }, 120_000);
});
