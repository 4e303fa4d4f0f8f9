import { describe, expect, it } from "vitest";
import type { CloudState } from "../cloud/cloud.js";
import type { ChildStatus } from "../cloud/supervisor.js";
import { eventually, request, useCloud } from "./support/cloud.js";
import { isRunning } from "./support/processes.js";

// Every kind of child the supervisor runs, killed with SIGKILL as a crash would: the death is
// printed at once, the state file and `status` stop showing the dead pid, and the child comes
// back (on the same port) and serves again.

const TIME_SCALE = 0.05;
/** A restarted DynamoDB Local needs a JVM start: seconds on a quiet machine, more on a busy one. */
const BACK_WITHIN_MS = 120_000;

const cloud = useCloud(TIME_SCALE, { monitoring: true });

function child(state: CloudState, name: string): ChildStatus {
  const found = state.processes.find((one) => one.name === name);
  if (found === undefined) throw new Error(`no child named ${name} in ${state.processes.map((one) => one.name)}`);
  return found;
}

const answers = async (url: string) => {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
  await response?.arrayBuffer();
  return response?.ok === true;
};

/** How to tell that each kind of child serves again, from the state file's URLs. */
const serves: Record<string, (state: CloudState) => Promise<boolean>> = {
  "us-east-1 DynamoDB Local": async (state) =>
    (await request(state.router.url, { path: "/health", targetRegion: "us-east-1" })).status === 200,
  "eu-west-1 API": async (state) =>
    (await request(state.router.url, { path: "/health", targetRegion: "eu-west-1" })).status === 200,
  replicator: (state) => answers(`${state.replicator.url}/status`),
  "us-east-1 Prometheus": (state) =>
    answers(`${"regional" in state.monitoring ? state.monitoring.regional["us-east-1"]?.prometheus : ""}/-/ready`),
  "eu-west-1 blackbox exporter": (state) =>
    answers(
      `${"regional" in state.monitoring ? state.monitoring.regional["eu-west-1"]?.blackboxExporter : ""}/metrics`,
    ),
  "global Prometheus": (state) =>
    answers(`${"global" in state.monitoring ? state.monitoring.global.prometheus : ""}/-/ready`),
  Alertmanager: (state) =>
    answers(`${"alertmanager" in state.monitoring ? state.monitoring.alertmanager.url : ""}/-/ready`),
};

describe("the supervisor", () => {
  it.each(Object.keys(serves))(
    "notices, prints, shows and heals a kill -9 of the %s",
    async (name) => {
      // Prepare
      const killedPid = child(cloud().state(), name).pid;
      expect(killedPid).not.toBeNull();
      const deathLine = `supervisor: ${name} (pid ${killedPid}) died (SIGKILL)`;

      // Act
      process.kill(killedPid as number, "SIGKILL");

      // Assess: printed at once, and from then on the dead pid is nowhere shown as live.
      await eventually(
        "the death is printed",
        async () => (cloud().output().includes(deathLine) ? true : undefined),
        10_000,
      );
      const afterDeath = child(cloud().state(), name);
      expect(afterDeath.pid).not.toBe(killedPid);
      expect(afterDeath.lastDeath).toMatchObject({ pid: killedPid, how: "SIGKILL" });
      const status = cloud().cli("status");
      expect(status.status).toBe(0);
      expect(status.stdout).toMatch(new RegExp(`${name}\\s+.*died .*\\(pid ${killedPid}, SIGKILL\\)`, "i"));
      expect(status.stdout).not.toMatch(new RegExp(`${name}\\s+pid ${killedPid}\\b`));

      // Assess: back, with another process, said so, and serving.
      const backPid = await eventually(
        "the child is said to be back",
        async () => {
          const said = new RegExp(`supervisor: ${name} is back \\(pid (\\d+)\\) after \\d+\\.\\d s`).exec(
            cloud().output(),
          );
          return said === null ? undefined : Number(said[1]);
        },
        BACK_WITHIN_MS,
        100,
      );
      expect(child(cloud().state(), name)).toMatchObject({ state: "running", pid: backPid, restarts: 1 });
      expect(backPid).not.toBe(killedPid);
      expect(isRunning(backPid)).toBe(true);
      await eventually(
        "it serves again",
        async () => ((await serves[name]?.(cloud().state())) ? true : undefined),
        BACK_WITHIN_MS,
        200,
      );
    },
    BACK_WITHIN_MS * 2 + 30_000,
  );
});
