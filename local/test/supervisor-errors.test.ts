import path from "node:path";
import { describe, expect, it } from "vitest";
import { pidsOf, ROOT, startCloud, survivors } from "./support/cloud.js";

const FAULT_FIXTURE = path.join(ROOT, "local/test/fixtures/supervisor-fault.mjs");

describe("an unexpected error in the supervisor", () => {
  it("is logged with its stack, and every child stops before the supervisor exits with 1", async () => {
    // Prepare: a cloud whose supervisor throws on SIGUSR2, then again while it stops.
    const nodeOptions = process.env.NODE_OPTIONS;
    process.env.NODE_OPTIONS = `${nodeOptions ?? ""} --import ${FAULT_FIXTURE}`;
    const running = await startCloud({ timeScale: 0.05 }).finally(() => {
      if (nodeOptions === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = nodeOptions;
    });
    const pids = pidsOf(running.state());
    const exitCode = new Promise<number | null>((resolve) => running.process.once("exit", resolve));

    // Act
    running.process.kill("SIGUSR2");
    const code = await exitCode;
    const output = running.output();
    await running.stop();

    // Assess
    expect(code, output).toBe(1);
    expect(output).toMatch(
      /unexpected error in the supervisor \(uncaughtException\): Error: an injected supervisor fault\n\s+at /,
    );
    expect(output).toMatch(/Error: a second injected fault, while the supervisor stops\n\s+at /);
    expect(output).toContain("stopping every child process: the supervisor cannot go on serving");
    expect(output).toContain("stopped: every child process has exited");
    expect(await survivors(pids)).toEqual([]);
  }, 120_000);
});
