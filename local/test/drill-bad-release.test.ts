import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type BadReleaseReport, badReleaseSchema } from "../../shared/drill-report.js";
import { PROJECT_ROOT } from "../../shared/paths.js";
import { useCloud } from "./support/cloud.js";

// `npm run drill -- --mode bad-release` against a running local cloud with monitoring: a faulty
// build of the real handler is released under the drill's writes and must be rolled back within
// its budget, in the first wave only, with no acknowledged write lost.

const TIME_SCALE = 0.05;

const cloud = useCloud(TIME_SCALE, { monitoring: true });
const scratch = mkdtempSync(path.join(tmpdir(), "calcburst-bad-release-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function drill(...args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", path.join("local", "drill", "cli.ts"), ...args], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
    timeout: 300_000,
  });
}

describe("the bad-release drill", () => {
  it("passes: the faulty version is rolled back within budget, from the first wave only, losing no write", () => {
    // Prepare
    const json = path.join(scratch, "report.json");
    const svg = path.join(scratch, "timeline.svg");

    // Act
    const run = drill("--mode", "bad-release", "--state-dir", cloud().stateDirectory, "--json", json, "--svg", svg);

    // Assess
    expect(run.status, run.stdout + run.stderr).toBe(0);
    const report: BadReleaseReport = badReleaseSchema.parse(JSON.parse(readFileSync(json, "utf8")));
    expect(report.passed).toBe(true);
    expect(report.release.outcome).toBe("rolled-back");
    expect(report.measured.exposedRegions).toEqual(report.firstWave);
    expect(report.measured.exposureToRollbackMs).not.toBeNull();
    expect(report.measured.exposureToRollbackMs).toBeLessThanOrEqual(report.budget.rollbackMs);
    expect(report.measured.acknowledgedWrites).toBeGreaterThan(0);
    expect(report.measured.lostAcknowledgedWrites).toBe(0);
    expect(readFileSync(svg, "utf8")).toContain("bad-release drill (local): rolled back");
  }, 360_000);

  it("refuses an AWS target with exit 2 and says why", () => {
    // Act
    const run = drill("--mode", "bad-release", "--target", "aws");

    // Assess
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("--mode bad-release runs against the local cloud only");
    expect(existsSync(path.join(scratch, "aws.json"))).toBe(false);
  }, 60_000);
});
