import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";

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
  exited(): boolean;
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
  const log = options.logFile !== undefined ? createWriteStream(options.logFile, { flags: "a" }) : undefined;
  const capture = (chunk: Buffer) => {
    if (output.length < 20_000) output += chunk.toString();
    log?.write(chunk);
  };
  child.stdout?.on("data", capture);
  child.stderr?.on("data", capture);
  const exit = new Promise<void>((resolve) =>
    child.once("exit", () => {
      running.delete(child);
      log?.end();
      resolve();
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
    exited,
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

/** Polls `probe` until it resolves true, failing early with the output if the process exits. */
export async function waitUntilReady(
  process: SupervisedProcess,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (process.exited()) {
      throw new Error(
        `${process.name} exited (${process.child.exitCode ?? process.child.signalCode}) before ${what}:\n${process.output()}`,
      );
    }
    if (await probe().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${process.name} did not ${what} within ${timeoutMs} ms:\n${process.output()}`);
}
