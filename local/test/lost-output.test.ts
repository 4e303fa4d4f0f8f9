import { afterEach, describe, expect, it } from "vitest";
import { pidsOf, type RunningCloud, startCloud, survivors } from "./support/cloud.js";
import { isRunning, pollUntil } from "./support/processes.js";

/** Long enough for a stop on a busy machine; a supervisor that spins never gets there. */
const STOP_DEADLINE_MS = 60_000;

describe("a supervisor whose output nobody reads any more", () => {
  let cloud: RunningCloud | undefined;
  let pids: number[] = [];

  afterEach(async () => {
    // A supervisor that failed the test may be spinning and deaf to SIGTERM: SIGKILL everything it started.
    for (const pid of pids.filter(isRunning)) process.kill(pid, "SIGKILL");
    await cloud?.stop();
    cloud = undefined;
  });

  async function startAndCloseItsOutput(): Promise<RunningCloud> {
    cloud = await startCloud({ timeScale: 0.05 });
    pids = pidsOf(cloud.state());
    // The reader goes away, as a test runner that died or `npm start | head` does: the pipe closes.
    cloud.process.stdout?.destroy();
    cloud.process.stderr?.destroy();
    return cloud;
  }

  it("stops every child and exits when it is sent SIGTERM", async () => {
    // Prepare
    const running = await startAndCloseItsOutput();
    const supervisor = running.state().supervisor.pid;

    // Act
    running.process.kill("SIGTERM");
    const exited = await pollUntil(() => !isRunning(supervisor), STOP_DEADLINE_MS);

    // Assess
    expect(exited, "the supervisor is still running").toBe(true);
    expect(await survivors(pids)).toEqual([]);
  }, 180_000);

  it("stops every child and exits by itself the next time it has something to say", async () => {
    // Prepare
    const running = await startAndCloseItsOutput();
    const [region] = Object.keys(running.state().regions);
    const supervisor = running.state().supervisor.pid;

    // Act: the router sees the region fail its health checks and says so on the supervisor's output.
    // On a busy machine it may have had something to say before the order (a region's checks
    // flapping), and be gone already: no answer to the order is then the same outcome.
    const answered = await fetch(`${running.state().control.url}/fail`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ region, mode: "health" }),
    }).then(
      (response) => response.status,
      () => "no answer: the supervisor had exited",
    );
    const exited = await pollUntil(() => !isRunning(supervisor), STOP_DEADLINE_MS);

    // Assess
    expect([200, "no answer: the supervisor had exited"]).toContain(answered);
    expect(exited, "the supervisor is still running").toBe(true);
    expect(running.process.exitCode).toBe(1);
    expect(await survivors(pids)).toEqual([]);
  }, 180_000);
});
