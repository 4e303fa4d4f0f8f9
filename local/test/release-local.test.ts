import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { HANDLER_BUNDLE, PROJECT_ROOT } from "../../shared/paths.js";
import { type ReleaseReport, schema } from "../../shared/release-report.js";
import { buildFaultyBundle } from "../drill/bad-release.js";
import { queryPrometheus } from "../monitoring/prometheus.js";
import { eventually, useCloud } from "./support/cloud.js";

// `npm run release -- --target local` against a running local cloud with monitoring: a good
// bundle goes through both waves, a failing one is rolled back in the first, and what cannot be
// released is refused with exit 2 before anything moves.

const TIME_SCALE = 0.05;
/** Short waves for the good release: a 6 s canary and a 3 s bake at this time scale. */
const QUICK = ["--canary-minutes", "2", "--bake-minutes", "1"];

const cloud = useCloud(TIME_SCALE, { monitoring: true });
const scratch = mkdtempSync(path.join(tmpdir(), "calcburst-release-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The release command as a user runs it; asynchronous, so traffic keeps flowing meanwhile. */
function releaseCommand(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", path.join("scripts", "release.ts"), "--target", "local", ...args],
      { cwd: PROJECT_ROOT, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("exit", (status) => resolve({ status, stdout, stderr }));
  });
}

/** Clients in both locations writing through the router, a few at a time, until stopped. */
function traffic(): { stop(): Promise<void> } {
  let running = true;
  const workers = ["us", "eu"].flatMap((location) =>
    Array.from({ length: 3 }, async () => {
      while (running) {
        await fetch(`${cloud().routerUrl}/v1/calculations`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-client-location": location },
          body: JSON.stringify({ operation: "add", operands: [1, 2] }),
          signal: AbortSignal.timeout(15_000),
        })
          .then((response) => response.arrayBuffer())
          .catch(() => undefined);
      }
    }),
  );
  return {
    stop: async () => {
      running = false;
      await Promise.all(workers);
    },
  };
}

function readReport(file: string): ReleaseReport {
  return schema.parse(JSON.parse(readFileSync(file, "utf8")));
}

describe("npm run release -- --target local", () => {
  it("promotes a good bundle wave by wave and exits 0", async () => {
    // Prepare: the current build, changed by a comment, so it is new code.
    const bundle = path.join(scratch, "good.js");
    copyFileSync(HANDLER_BUNDLE, bundle);
    writeFileSync(bundle, `${readFileSync(bundle, "utf8")}\n// a new version\n`);
    const json = path.join(scratch, "good.json");
    const load = traffic();

    // Act
    const run = await releaseCommand(
      "--bundle",
      bundle,
      "--json",
      json,
      ...QUICK,
      "--state-dir",
      cloud().stateDirectory,
    );
    await load.stop();

    // Assess
    expect(run.status, run.stdout + run.stderr).toBe(0);
    const report = readReport(json);
    expect(report.outcome).toBe("promoted");
    expect(report.waves.map((wave) => [wave.regions, wave.decision])).toEqual([
      [["us-east-1"], "promoted"],
      [["eu-west-1"], "promoted"],
    ]);
    expect(report.exposedRegions.sort()).toEqual(["eu-west-1", "us-east-1"]);
    const candidate = report.regions[0]?.candidateVersion;
    expect(report.finalVersions).toEqual({ "us-east-1": candidate, "eu-west-1": candidate });
    expect(run.stdout).toMatch(/wave 1 {2}us-east-1 +10% {2}canary 10% on version \d+: /);
  }, 300_000);

  it("labels the function's metrics with the version that served", async () => {
    // Prepare
    const state = cloud().state();
    const prometheus = "regional" in state.monitoring ? state.monitoring.regional["us-east-1"]?.prometheus : undefined;
    const functions = (await (await fetch(`${state.control.url}/functions`)).json()) as Record<
      string,
      { alias: { version: string } }
    >;
    const serving = functions["us-east-1"]?.alias.version;
    const load = traffic();

    // Act
    const series = await eventually(
      `calcburst_requests_total{version="${serving}"} in us-east-1's Prometheus`,
      async () => {
        const found = await queryPrometheus(prometheus ?? "", `calcburst_requests_total{version="${serving}"}`);
        return found.length > 0 ? found : undefined;
      },
      60_000,
      250,
    ).finally(() => load.stop());

    // Assess
    expect(series[0]?.metric).toMatchObject({ region: "us-east-1", version: serving, job: "calcburst-function" });
  }, 120_000);

  it("rolls a failing bundle back in the first wave and exits 1", async () => {
    // Prepare: the real handler, failing every request it serves.
    const bundle = await buildFaultyBundle(path.join(scratch, "failing.js"), 1);
    const json = path.join(scratch, "failing.json");
    const before = readReport(path.join(scratch, "good.json")).finalVersions;
    const load = traffic();

    // Act
    const run = await releaseCommand("--bundle", bundle, "--json", json, "--state-dir", cloud().stateDirectory);
    await load.stop();

    // Assess
    expect(run.status, run.stdout + run.stderr).toBe(1);
    const report = readReport(json);
    expect(report.outcome).toBe("rolled-back");
    expect(report.exposedRegions).toEqual(["us-east-1"]);
    expect(report.regions.map((region) => [region.region, region.decision])).toEqual([
      ["us-east-1", "failed"],
      ["eu-west-1", "not-started"],
    ]);
    expect(report.finalVersions).toEqual(before);
    expect(run.stdout).toContain("BREACH: Availability burn");
  }, 300_000);

  it("refuses a bundle that does not load with exit 2, publishing nothing", async () => {
    // Prepare
    const bundle = path.join(scratch, "broken.js");
    writeFileSync(bundle, "throw new Error('this bundle cannot start');\n");
    const versionsBefore = await fetch(`${cloud().state().control.url}/functions`).then((r) => r.json());

    // Act
    const run = await releaseCommand("--bundle", bundle, "--state-dir", cloud().stateDirectory);

    // Assess
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("does not load as the function: this bundle cannot start");
    expect(await fetch(`${cloud().state().control.url}/functions`).then((r) => r.json())).toEqual(versionsBefore);
  }, 180_000);

  it("refuses a cloud that runs without monitoring with exit 2", async () => {
    // Prepare: the running cloud's state as a cloud started with --no-monitoring writes it.
    const stateDirectory = path.join(scratch, "no-monitoring");
    mkdirSync(stateDirectory, { recursive: true });
    const state = { ...cloud().state(), monitoring: { disabled: "--no-monitoring was given" } };
    writeFileSync(path.join(stateDirectory, "state.json"), JSON.stringify(state));

    // Act
    const run = spawnSync(
      process.execPath,
      ["--import", "tsx", path.join("scripts", "release.ts"), "--target", "local", "--state-dir", stateDirectory],
      { cwd: PROJECT_ROOT, encoding: "utf8", timeout: 60_000 },
    );

    // Assess
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("the local cloud runs without monitoring (--no-monitoring was given)");
  }, 90_000);
});
