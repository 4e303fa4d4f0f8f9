import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadStack } from "../../shared/stack-file.js";
import { ensureFromSlo } from "../load/ensure.js";
import { runLoad } from "./support/load-cli.js";

// npm run load as a user runs it, where no local cloud is needed: its thresholds, its usage
// errors, and a target that does not answer (load.test.ts drives the local cloud).

const output = mkdtempSync(path.join(tmpdir(), "calcburst-load-cli-"));
afterAll(() => rmSync(output, { recursive: true, force: true }));

describe("npm run load without a local cloud", () => {
  it("fails, exit 1, when the target does not answer", async () => {
    // Prepare: a port nothing listens on.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const address = server.address();
        server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
      });
    });

    // Act
    const run = runLoad("smoke", "--target", `http://127.0.0.1:${port}`, "--output", path.join(output, "dead.json"));

    // Assess
    expect(run.status, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toContain("ensure: FAILED");
    expect(run.stdout).toMatch(/p99 response time: none measured \(no answers\).*: FAILED/);
    // The smoke scenario's phases run their course against the dead port (16 s alone, more beside
    // other files), within the command's own 120 s limit.
  }, 150_000);

  it("names the scenarios when given an unknown one", () => {
    const run = runLoad("stampede");

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
