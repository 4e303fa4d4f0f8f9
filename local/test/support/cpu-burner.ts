import { type ChildProcess, spawn } from "node:child_process";
import { availableParallelism } from "node:os";

/**
 * A busy machine on demand: child processes that spin on the CPU until stopped, one per core by
 * default. What another test suite, a build or a second engineer's cloud does to this one.
 */
export interface CpuBurner {
  pids: number[];
  /** Kills every spinner and resolves once each has exited. */
  stop(): Promise<void>;
}

const SPINNER = `
  const parent = process.ppid;
  for (;;) {
    for (let i = 0; i < 1e7; i += 1);
    if (process.ppid !== parent) process.exit(0);
  }`;

export function burnCpu(spinners = availableParallelism()): CpuBurner {
  const children: ChildProcess[] = [];
  for (let index = 0; index < spinners; index += 1) {
    // A spinner that outlives a test killed first sees another parent (init adopts it) and ends.
    const child = spawn(process.execPath, ["-e", SPINNER], { stdio: "ignore" });
    children.push(child);
  }
  return {
    pids: children.flatMap((child) => (child.pid === undefined ? [] : [child.pid])),
    stop: async () => {
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              child.once("exit", () => resolve());
              child.kill("SIGKILL");
            }),
        ),
      );
    },
  };
}
