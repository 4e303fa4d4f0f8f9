import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadStack } from "../../shared/stack-file.js";
import { ensureFromSlo } from "../load/ensure.js";
import { ROOT, useCloud } from "./support/cloud.js";

// npm run load as a user runs it: real artillery against the running local cloud.

const cloud = useCloud(0.05);
const output = mkdtempSync(path.join(tmpdir(), "calcburst-load-"));
afterAll(() => rmSync(output, { recursive: true, force: true }));

function load(...args: string[]) {
  const run = spawnSync(process.execPath, ["--import", "tsx", "local/load/cli.ts", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 120_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

interface ArtilleryReport {
  aggregate: { counters: Record<string, number>; summaries: Record<string, { p99: number }> };
}

describe("npm run load", () => {
  it("passes the smoke scenario against the local cloud, with the SLO's thresholds and the expected 4xx", () => {
    // Prepare
    const report = path.join(output, "smoke.json");

    // Act
    const run = load("smoke", "--state-dir", cloud().stateDirectory, "--output", report);

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

  it("fails, exit 1, when the target does not answer", async () => {
    // Prepare: a port nothing listens on.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const address = server.address();
        server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
      });
    });

    // Act
    const run = load("smoke", "--target", `http://127.0.0.1:${port}`, "--output", path.join(output, "dead.json"));

    // Assess
    expect(run.status, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toContain("ensure: FAILED");
    expect(run.stdout).toMatch(/p99 response time: none measured \(no answers\).*: FAILED/);
  });

  it("runs a drill during failover-under-load: the drill passes and the errors stay within one failover's share", () => {
    // Prepare
    const report = path.join(output, "failover.json");

    // Act
    const run = load("failover-under-load", "--state-dir", cloud().stateDirectory, "--output", report);

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

  it("names the scenarios when given an unknown one", () => {
    const run = load("stampede");

    expect(run.status).toBe(2);
    expect(run.stderr).toContain("scenarios: failover-under-load, geo-mix, smoke, spike, steady");
  });

  it("derives its thresholds from the stack's SLO, and a failover's from one drill's share of errors", () => {
    const { config } = loadStack("prod");

    expect(ensureFromSlo(config)).toEqual({
      thresholds: [{ "http.response_time.p99": 250 }],
      conditions: [{ expression: "vusers.failed <= vusers.created * 0.0005", strict: true }],
    });
    expect(ensureFromSlo(config, { allowedFailedShare: 0.25 })).toEqual({
      thresholds: [],
      conditions: [{ expression: "vusers.failed <= vusers.created * 0.25", strict: true }],
    });
  });
});
