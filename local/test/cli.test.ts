import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadStack } from "../../shared/stack-file.js";
import { ROOT, useCloud } from "./support/cloud.js";

const { config } = loadStack("prod");

describe("npm run local", () => {
  const theCloud = useCloud(0.05);

  it("prints health, routing, replication and processes with status", () => {
    const run = theCloud().cli("status");

    expect(run.status).toBe(0);
    for (const region of config.regions) expect(run.stdout).toMatch(new RegExp(`${region}\\s+HEALTHY`));
    expect(run.stdout).toMatch(/us\s+→ us-east-1/);
    expect(run.stdout).toMatch(/us-east-1 → eu-west-1\s+running/);
    expect(run.stdout).toContain(`pid ${theCloud().state().replicator.pid}`);
    expect(run.stdout).toContain("time scale 0.05");
    expect(run.stdout).toMatch(/^monitoring\n {2}off: --no-monitoring was given$/m);
  });

  it("refuses a region the stack does not have, naming the ones it has", () => {
    const run = theCloud().cli("fail", "mars-east-1", "--mode", "api");

    expect(run.status).toBe(2);
    expect(run.stderr).toContain("mars-east-1 is not a region of stack prod (us-east-1, eu-west-1)");
  });

  it("refuses an unknown fault mode, listing the modes", () => {
    const run = theCloud().cli("fail", "us-east-1", "--mode", "meteor");

    expect(run.status).toBe(2);
    expect(run.stderr).toContain("mode must be one of api, data, health, isolate, crash");
    expect(theCloud().state().regions["us-east-1"]?.faults).toEqual([]);
  });

  it("refuses to start a second cloud on the same state folder", () => {
    const run = spawnSync(
      process.execPath,
      ["--import", "tsx", "local/cli.ts", "up", "--port", "0", "--state-dir", theCloud().stateDirectory],
      { cwd: ROOT, encoding: "utf8" },
    );

    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`a local cloud is already running (pid ${theCloud().state().supervisor.pid}`);
    expect(theCloud().state().router.url).toBe(theCloud().routerUrl);
  });

  it("says how to start the cloud when none is running", () => {
    const empty = mkdtempSync(path.join(tmpdir(), "calcburst-none-"));

    const run = spawnSync(process.execPath, ["--import", "tsx", "local/cli.ts", "status", "--state-dir", empty], {
      cwd: ROOT,
      encoding: "utf8",
    });
    rmSync(empty, { recursive: true, force: true });

    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/the local cloud is not running \(no .*state\.json\): start it with npm start/);
  });
});
