import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { findMonitoringBinaries, MONITORING_INSTALL_COMMAND } from "../monitoring/binaries.js";
import { ROOT } from "./support/cloud.js";

/** A PATH with what the cloud needs besides monitoring: java for DynamoDB Local, sh and sleep for watchdogs. */
function pathWithoutMonitoring(): { directory: string; path: string } {
  const directory = mkdtempSync(path.join(tmpdir(), "calcburst-path-"));
  for (const tool of ["java", "sh", "sleep"]) {
    const found = (process.env.PATH ?? "")
      .split(path.delimiter)
      .map((folder) => path.join(folder, tool))
      .find((candidate) => {
        try {
          return statSync(candidate).isFile();
        } catch {
          return false;
        }
      });
    if (found !== undefined) symlinkSync(found, path.join(directory, tool));
  }
  return { directory, path: directory };
}

describe("the local cloud without the monitoring binaries", () => {
  it("names every missing binary and the exact command that installs them", () => {
    // Prepare
    const saved = process.env.PATH;
    const bare = pathWithoutMonitoring();
    process.env.PATH = bare.path;

    // Act
    const found = findMonitoringBinaries();

    // Assess
    process.env.PATH = saved;
    rmSync(bare.directory, { recursive: true, force: true });
    expect(found).toEqual({
      available: false,
      missing: ["prometheus", "promtool", "prometheus-alertmanager", "amtool", "prometheus-blackbox-exporter"],
      installCommand: MONITORING_INSTALL_COMMAND,
    });
    expect(MONITORING_INSTALL_COMMAND).toBe(
      "apt-get install -y --no-install-recommends prometheus prometheus-alertmanager prometheus-blackbox-exporter",
    );
  });

  it("starts, says monitoring is off and how to install it, runs the demo and stops", async () => {
    // Prepare
    const bare = pathWithoutMonitoring();
    const stateDirectory = mkdtempSync(path.join(tmpdir(), "calcburst-nomon-"));
    let output = "";

    // Act
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "local/cli.ts", "up", "--exit-after-demo", "--port", "0", "--state-dir", stateDirectory],
      { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PATH: bare.path } },
    );
    // A cloud that outlives its test (a timeout on a busy machine) is stopped as Ctrl-C stops it.
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    });
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));

    // Assess
    rmSync(bare.directory, { recursive: true, force: true });
    rmSync(stateDirectory, { recursive: true, force: true });
    expect(code, output).toBe(0);
    expect(output).toContain(
      `monitoring is off: prometheus, promtool, prometheus-alertmanager, amtool, prometheus-blackbox-exporter not installed. Install them (as root) with: ${MONITORING_INSTALL_COMMAND}`,
    );
    expect(output).toMatch(/client in us\s+POST .* → 201 from us-east-1/);
    expect(output).not.toContain("monitoring: global Prometheus");
  }, 180_000);
});
