import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { type CloudState, DEFAULT_READY_TIMEOUT_MS } from "../cloud/cloud.js";
import { pidsOf, ROOT, startCloud, survivors } from "./support/cloud.js";

/**
 * A start with monitoring took more than vitest's default 30 s on a busy 2-core machine: each
 * test may take as long as the cloud's own ready timeout, which says what was slow, and a stop.
 */
const START_AND_STOP_MS = DEFAULT_READY_TIMEOUT_MS + 60_000;

describe("the local cloud's lifecycle", () => {
  it(
    "reaches the ready line, writes its state file, runs the demo and stops every child",
    async () => {
      // Prepare
      const stateDirectory = mkdtempSync(path.join(tmpdir(), "calcburst-start-"));
      const stateFile = path.join(stateDirectory, "state.json");
      let stateWhileReady: CloudState | undefined;
      let output = "";

      // Act: what `npm start` runs after the build, on a free port.
      const child = spawn(
        process.execPath,
        ["--import", "tsx", "local/cli.ts", "up", "--exit-after-demo", "--port", "0", "--state-dir", stateDirectory],
        { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
      );
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (stateWhileReady === undefined && output.includes("CalcBurst local cloud ready:")) {
          stateWhileReady = JSON.parse(readFileSync(stateFile, "utf8")) as CloudState;
        }
      });
      child.stderr.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));

      // Assess
      expect(code, output).toBe(0);
      expect(output).toMatch(/^CalcBurst local cloud ready: http:\/\/127\.0\.0\.1:\d+$/m);
      expect(output).toMatch(/client in us\s+POST .* → 201 from us-east-1: 0\.3/);
      expect(output).toMatch(/client in eu\s+POST .* → 201 from eu-west-1: 0\.3333333333/);
      expect(output).toMatch(/read back from eu-west-1 \(replicated; visible after \d+ ms\): 0\.3/);
      expect(output).toMatch(/read back from us-east-1 \(replicated; visible after \d+ ms\): 0\.3333333333/);
      expect(output).not.toContain("NodeVersionSupportWarning");
      expect(stateWhileReady?.router.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(Object.keys(stateWhileReady?.regions ?? {})).toEqual(["us-east-1", "eu-west-1"]);
      // npm start runs the monitoring too: two regional Prometheus, two blackbox exporters, the global one, Alertmanager.
      const monitoring = stateWhileReady?.monitoring;
      expect(monitoring !== undefined && "pids" in monitoring ? monitoring.pids.length : 0).toBe(6);
      expect(output).toMatch(/^monitoring: global Prometheus http:\/\/127\.0\.0\.1:\d+\/classic\/graph/m);
      expect(await survivors(pidsOf(stateWhileReady as CloudState))).toEqual([]);
      expect(existsSync(stateFile)).toBe(false);
      rmSync(stateDirectory, { recursive: true, force: true });
    },
    START_AND_STOP_MS,
  );

  it(
    "stops every child on Ctrl-C, which signals the whole process group",
    async () => {
      // Prepare
      const cloud = await startCloud({ timeScale: 0.05, detached: true, monitoring: true });
      const pids = cloud.pids();

      // Act
      process.kill(-(cloud.process.pid ?? 0), "SIGINT");
      await cloud.stop();

      // Assess
      expect(pids.length).toBe(12);
      expect(await survivors(pids)).toEqual([]);
      expect(cloud.output()).toContain("stopped: every child process has exited");
    },
    START_AND_STOP_MS,
  );

  it(
    "leaves no process behind when the supervisor itself is killed with SIGKILL",
    async () => {
      // Prepare
      const cloud = await startCloud({ timeScale: 0.05, monitoring: true });
      const pids = cloud.pids();

      // Act
      cloud.process.kill("SIGKILL");
      await cloud.stop();

      // Assess: the node children see their IPC channel close; java and the monitoring binaries have a watchdog each.
      expect(pids.length).toBe(12);
      expect(await survivors(pids, 15_000)).toEqual([]);
    },
    START_AND_STOP_MS,
  );
});
