import { type ChildProcess, spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { ReadinessTimeoutError, waitWhileProgressing } from "../process/readiness.js";

// Waiting for a starting process by its progress, not a fixed budget: real child processes that
// work, stall or spin, watched through /proc and their output.

const children: ChildProcess[] = [];

/** A node process running `script`; `output()` is what it has printed so far. */
function run(script: string) {
  const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "ignore"] });
  children.push(child);
  let printed = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    printed += chunk.toString();
  });
  const exited = () =>
    child.exitCode !== null || child.signalCode !== null ? `${child.signalCode ?? child.exitCode}` : undefined;
  return {
    subject: { name: "the test child", pid: child.pid as number, exited, outputSize: () => printed.length },
    output: () => printed,
  };
}

afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

/** Spins the CPU for `ms` of wall time, silently. */
const spin = (ms: number) => `const until = Date.now() + ${ms}; while (Date.now() < until);`;

describe("waiting for a process to be ready", () => {
  it("waits past the stall time for a process that keeps using CPU", async () => {
    // Prepare: ready only after 3 s of silent work, six times the stall time.
    const { subject, output } = run(`${spin(3000)} console.log("ready"); setTimeout(() => {}, 60_000);`);

    // Act
    const waited = waitWhileProgressing(subject, async () => output().includes("ready"), "say ready", {
      timeoutMs: 60_000,
      stallMs: 500,
      everyMs: 50,
    });

    // Assess
    await expect(waited).resolves.toBeUndefined();
  }, 90_000);

  it("gives up early on a process that uses no CPU and writes nothing, and says it stalled", async () => {
    // Prepare
    const { subject } = run("setTimeout(() => {}, 60_000);");
    const startedAt = Date.now();

    // Act
    const waited = waitWhileProgressing(subject, async () => false, "say ready", {
      timeoutMs: 60_000,
      stallMs: 1000,
      everyMs: 50,
    });

    // Assess
    const error = await waited.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ReadinessTimeoutError);
    expect((error as Error).message).toMatch(
      /^the test child \(pid \d+\) stalled: it did not say ready, and used no CPU and wrote nothing for \d+ s \(load average [\d.]+ on \d+ cores\)$/,
    );
    expect(Date.now() - startedAt).toBeLessThan(45_000);
  }, 90_000);

  it("gives up at the outer limit on a process that is still working, and says so", async () => {
    // Prepare
    const { subject } = run(spin(60_000));

    // Act
    const waited = waitWhileProgressing(subject, async () => false, "say ready", {
      timeoutMs: 1500,
      stallMs: 30_000,
      everyMs: 50,
    });

    // Assess
    await expect(waited).rejects.toThrow(
      /^the test child \(pid \d+\) did not say ready within \d+ s; it was still starting \(it used [\d.]+ s of CPU meanwhile; load average/,
    );
  }, 90_000);

  it("fails at once, saying how, when the process exits before it is ready", async () => {
    // Prepare
    const { subject } = run("process.exit(3);");

    // Act
    const waited = waitWhileProgressing(subject, async () => false, "say ready", { timeoutMs: 60_000, everyMs: 50 });

    // Assess
    await expect(waited).rejects.toThrow("the test child exited (3) before it could say ready");
  }, 90_000);
});
