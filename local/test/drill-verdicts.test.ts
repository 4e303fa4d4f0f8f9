import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { type ConflictReport, type FailoverReport, schema } from "../../shared/drill-report.js";
import { loadStack } from "../../shared/stack-file.js";
import { runConflictDrill } from "../drill/conflict.js";
import { localTarget } from "../drill/local-target.js";
import { runDrill } from "../drill/run.js";
import type { DrillTarget } from "../drill/target.js";
import { ROOT, useCloud } from "./support/cloud.js";
import { DRILL_TIMEOUT_MS, runDrillCli, useDrillOutput } from "./support/drill.js";

// What npm run drill concludes when the outcome is not a clean failover: a fault lifted too soon,
// writers racing on shared ids (the conflict drill), a region that answers 503 or never reads an id
// back, and the runs it refuses before touching anything. The failover modes: drill.test.ts.

const cloud = useCloud(0.05);
const output = useDrillOutput();
const drill = (...args: string[]) => runDrillCli(cloud().stateDirectory, ...args);

describe("npm run drill's verdicts, the conflict drill and its refusals", () => {
  it(
    "fails, exit 1, when the fault is lifted before the clients could move",
    () => {
      // Prepare: an outage shorter than detection plus the TTL. A frozen table, because it is thawed by
      // a signal the instant the drill lifts the fault: an API restarted after 0.3 s is back only once
      // its process has started, seconds later on a loaded machine, long enough for the clients to move.
      const json = path.join(output, "short.json");

      // Act
      const run = drill(
        "--region",
        "us-east-1",
        "--mode",
        "data",
        "--duration",
        "0.3",
        "--json",
        json,
        "--svg",
        path.join(output, "short.svg"),
      );

      // Assess
      expect(run.status, run.stdout + run.stderr).toBe(1);
      const report = JSON.parse(readFileSync(json, "utf8")) as FailoverReport;
      expect(report.passed).toBe(false);
      expect(report.failures.join("\n")).toMatch(
        /not every location was served by a healthy region before the restore/,
      );
      expect(run.stdout).toContain("FAILED");
    },
    DRILL_TIMEOUT_MS + 30_000,
  );

  it(
    "races writers on shared ids in and across regions: none lost in its region, every region the same",
    () => {
      // Prepare
      const json = path.join(output, "conflict.json");
      const svg = path.join(output, "conflict.svg");

      // Act
      const run = drill("--mode", "conflict", "--pairs", "6", "--json", json, "--svg", svg);

      // Assess
      expect(run.status, run.stdout + run.stderr).toBe(0);
      const parsed = schema.safeParse(JSON.parse(readFileSync(json, "utf8")));
      expect(parsed.success).toBe(true);
      const report = parsed.data as ConflictReport;
      expect(report).toMatchObject({ kind: "conflict", mode: "conflict", passed: true, failures: [] });
      // Two regions: 4 same-region pairings each, 4 cross-region pairings.
      expect(report.pairings).toHaveLength(12);
      expect(report.measured.pairs).toBe(72);
      expect(report.measured.sameRegionAcknowledgedLost).toBe(0);
      expect(report.measured.divergence).toMatchObject({ scope: "table", divergentItems: 0, reason: null });
      for (const pairing of report.pairings.filter((one) => one.scope === "same-region")) {
        expect(pairing.bothAcknowledged, JSON.stringify(pairing)).toBe(0);
      }
      // Every cross-region pair both regions acknowledged has one of the two superseded (MREC).
      expect(report.measured.crossRegionAcknowledgedSuperseded).toBeGreaterThanOrEqual(
        report.measured.crossRegionBothAcknowledged,
      );
      expect(run.stdout).toMatch(/same-region acknowledged writes lost \(must be 0\)\s+0/);
      expect(run.stdout).toContain("PASSED");
      expect(readFileSync(svg, "utf8")).toContain("conflict drill over us-east-1, eu-west-1 (local)");
    },
    DRILL_TIMEOUT_MS + 30_000,
  );

  /** The real cloud as a drill target, whose eu-west-1 answers 503 to the reads `fails` picks. */
  function failingReads(fails: (id: string, sinceFirstReadMs: number) => boolean): DrillTarget {
    const real = localTarget(loadStack("prod").config, cloud().stateDirectory);
    let firstReadAt: number | undefined;
    return {
      ...real,
      read: async (region, id) => {
        firstReadAt ??= Date.now();
        if (region === "eu-west-1" && fails(id, Date.now() - firstReadAt)) return { status: 503, region };
        return real.read(region, id);
      },
    };
  }

  it(
    "keeps reading back through a region that answers 503 for a while",
    async () => {
      // Prepare: eu-west-1 answers 503 for the first second of the read-back, as while a process restarts.
      const target = failingReads((_id, sinceFirstReadMs) => sinceFirstReadMs < 1000);

      // Act
      const report = await runConflictDrill(target, { stack: "prod", pairsPerPairing: 2, readBackMs: 5000 });

      // Assess
      expect(report.measured.unreadableIds).toEqual([]);
      expect(report.passed, report.failures.join("; ")).toBe(true);
    },
    DRILL_TIMEOUT_MS + 30_000,
  );

  it(
    "does not count a write as exposed while the survivor answers 503 for a while",
    async () => {
      // Prepare: the survivor answers 503 for the first second of the drill's reads, as a region
      // busy with everyone's traffic does; its replica holds the writes all the while.
      const target = failingReads((_id, sinceFirstReadMs) => sinceFirstReadMs < 1000);

      // Act: a short outage; only the exposure count matters here, not the RTO.
      const report = await runDrill(target, { stack: "prod", region: "us-east-1", mode: "health", outageMs: 3000 });

      // Assess
      expect(report.probes.some((probe) => probe.region === "us-east-1" && probe.status === 201)).toBe(true);
      expect(report.measured.rpoExposure, report.measured.rpoExposureIds.join(", ")).toBe(0);
    },
    DRILL_TIMEOUT_MS + 30_000,
  );

  it(
    "counts an id a region never reads back as unreadable, not as lost, and fails saying so",
    async () => {
      // Prepare: eu-west-1 never answers for the first pair of each pairing.
      const target = failingReads((id) => id.endsWith("-0"));

      // Act
      const report = await runConflictDrill(target, { stack: "prod", pairsPerPairing: 2, readBackMs: 500 });

      // Assess
      expect(report.measured.unreadableIds).toHaveLength(12);
      expect(report.measured.unreadableIds.every((id) => id.endsWith("-0"))).toBe(true);
      expect(report.measured.sameRegionAcknowledgedLost).toBe(0);
      expect(report.passed).toBe(false);
      expect(report.failures).toEqual(["12 ids could not be read back from every region (neither 200 nor 404)"]);
    },
    DRILL_TIMEOUT_MS + 30_000,
  );

  it("refuses an unknown region, and isolate and crash on AWS, with exit 2, before touching anything", () => {
    const unknown = drill("--region", "mars-1", "--mode", "api");
    const isolate = drill("--region", "us-east-1", "--mode", "isolate", "--target", "aws");
    const crash = drill("--region", "us-east-1", "--mode", "crash", "--target", "aws");

    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("mars-1 is not a region of stack prod (us-east-1, eu-west-1)");
    expect(isolate.status).toBe(2);
    expect(isolate.stderr).toContain("a global table's replication cannot be paused");
    expect(crash.status).toBe(2);
    expect(crash.stderr).toContain("on AWS, --mode crash has no AWS counterpart: DynamoDB's storage is AWS's to run");
    expect(cloud().state().regions["us-east-1"]?.faults).toEqual([]);
    expect(existsSync(path.join(ROOT, "docs", "drills", "short.svg"))).toBe(false);
  });
});
