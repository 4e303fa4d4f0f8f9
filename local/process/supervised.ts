import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { type ReadyWaitOptions, waitWhileProgressing } from "./readiness.js";

/** How a process ended: its exit code, or the signal that ended it. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** "code 1" or "SIGKILL": how a process ended, for messages. */
export function describeExit({ code, signal }: ExitStatus): string {
  return signal ?? `code ${code}`;
}

/**
 * A system binary (java, prometheus, alertmanager, the blackbox exporter) the local cloud or a
 * test runs as a child. No such child may outlive its parent: a normal exit stops it, a crash
 * runs the exit hook, and a parent killed with SIGKILL leaves a watchdog that kills it.
 */
export interface SupervisedProcess {
  name: string;
  pid: number;
  child: ChildProcess;
  /** What the process wrote so far (the first 20 kB), for error messages. */
  output(): string;
  /** Bytes written so far, a sign of progress while it starts. */
  outputSize(): number;
  exited(): boolean;
  /** Resolves once the process has exited, however it ended. */
  exitStatus: Promise<ExitStatus>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const child of running) child.kill("SIGKILL");
  });
}

/** Kills `childPid` once `parentPid` is gone: the SIGKILLed-parent case no exit hook sees. */
function startWatchdog(parentPid: number, childPid: number): void {
  const script = `while kill -0 ${parentPid} 2>/dev/null && kill -0 ${childPid} 2>/dev/null; do sleep 1; done; kill ${childPid} 2>/dev/null; sleep 3; kill -9 ${childPid} 2>/dev/null; exit 0`;
  const watchdog = spawn("sh", ["-c", script], { detached: true, stdio: "ignore" });
  watchdog.unref();
}

export function spawnSupervised(
  name: string,
  command: string,
  args: string[],
  options: { logFile?: string; cwd?: string } = {},
): SupervisedProcess {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], cwd: options.cwd });
  let output = "";
  let outputSize = 0;
  const log = options.logFile !== undefined ? createWriteStream(options.logFile, { flags: "a" }) : undefined;
  const capture = (chunk: Buffer) => {
    outputSize += chunk.length;
    if (output.length < 20_000) output += chunk.toString();
    log?.write(chunk);
  };
  child.stdout?.on("data", capture);
  child.stderr?.on("data", capture);
  const exit = new Promise<ExitStatus>((resolve) =>
    child.once("exit", (code, signal) => {
      running.delete(child);
      log?.end();
      resolve({ code, signal });
    }),
  );
  // A binary that is not there fails asynchronously; the exit above still resolves.
  child.once("error", (error) => {
    output += `${error.message}\n`;
  });
  running.add(child);
  installExitHook();
  if (child.pid === undefined) {
    running.delete(child);
    throw new Error(`could not start ${name} (${command}): is it installed?`);
  }
  startWatchdog(process.pid, child.pid);
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  return {
    name,
    pid: child.pid,
    child,
    output: () => output,
    outputSize: () => outputSize,
    exited,
    exitStatus: exit,
    stop: async (graceMs = 5000) => {
      if (exited()) return;
      // A frozen (SIGSTOPped) process must be thawed to hear SIGTERM.
      child.kill("SIGCONT");
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
}

/**
 * Polls `probe` until it resolves true, for as long as the process makes progress (see
 * readiness.ts); fails early with its output if it exits.
 */
export async function waitUntilReady(
  process: SupervisedProcess,
  probe: () => Promise<boolean>,
  wait: ReadyWaitOptions,
  what: string,
): Promise<void> {
  try {
    await waitWhileProgressing(
      {
        name: process.name,
        pid: process.pid,
        exited: () =>
          process.exited()
            ? describeExit({ code: process.child.exitCode, signal: process.child.signalCode })
            : undefined,
        outputSize: process.outputSize,
      },
      probe,
      what,
      wait,
    );
  } catch (error) {
    if (error instanceof Error) error.message += process.output() === "" ? "" : `; its output:\n${process.output()}`;
    throw error;
  }
}
