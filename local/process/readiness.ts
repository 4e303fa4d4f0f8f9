import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";

/**
 * Waiting for a starting process on a machine whose speed is unknown. A fixed budget tuned on a
 * quiet machine fails on a busy one (DynamoDB Local took more than 30 s to answer on a machine
 * running two test suites), so a wait goes on for as long as the process makes progress (uses
 * CPU or writes output), up to an outer limit, and gives up early only when it stalls.
 */

/** A process that stalled or ran out of time before it was ready; the message says which and what to try. */
export class ReadinessTimeoutError extends Error {
  override readonly name = "ReadinessTimeoutError";
}

/** How long a process may go without using CPU or writing output before it counts as stalled. */
export const DEFAULT_STALL_MS = 30_000;

let clockTicksPerSecond: number | undefined;

function ticksPerSecond(): number {
  if (clockTicksPerSecond === undefined) {
    try {
      clockTicksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicksPerSecond = 100;
    }
  }
  return clockTicksPerSecond;
}

/** CPU time (user + system) the process has used, in ms; undefined once it is gone or where /proc is missing. */
export function cpuTimeMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1000) / ticksPerSecond() : undefined;
  } catch {
    return undefined;
  }
}

/** How busy the machine is, for messages: "load average 5.1 on 2 cores". */
export function machineLoad(): string {
  return `load average ${(loadavg()[0] ?? 0).toFixed(1)} on ${availableParallelism()} cores`;
}

/**
 * A warning for measurements taken on an overloaded machine (the 1-minute load average above the
 * core count), or undefined: latencies, RTOs and rates measured then say more about the machine.
 */
export function overloadWarning(
  load: number = loadavg()[0] ?? 0,
  cores: number = availableParallelism(),
): string | undefined {
  if (load <= cores) return undefined;
  return `warning: the machine is overloaded (load average ${load.toFixed(1)} on ${cores} cores): the figures below may not hold on an idle machine`;
}

/**
 * Watches one process for signs of life: CPU time used and output written. Where /proc cannot
 * tell the CPU time, only output counts, and a silent process is judged by the outer limit alone.
 */
export class ProgressWatch {
  private lastCpuMs: number | undefined;
  private lastOutput: number;
  private lastProgressAt = Date.now();
  private readonly startCpuMs: number | undefined;

  constructor(
    private readonly pid: number,
    private readonly outputSize: () => number,
  ) {
    this.startCpuMs = cpuTimeMs(pid);
    this.lastCpuMs = this.startCpuMs;
    this.lastOutput = outputSize();
  }

  /** Looks again; returns how long (ms) the process has shown no progress. */
  idleMs(): number {
    const cpu = cpuTimeMs(this.pid);
    const output = this.outputSize();
    const measurable = cpu !== undefined || this.startCpuMs !== undefined;
    if ((cpu !== undefined && cpu !== this.lastCpuMs) || output !== this.lastOutput || !measurable) {
      this.lastProgressAt = Date.now();
    }
    this.lastCpuMs = cpu ?? this.lastCpuMs;
    this.lastOutput = output;
    return Date.now() - this.lastProgressAt;
  }

  /** CPU seconds used since the watch began, for messages. */
  cpuSecondsUsed(): string {
    if (this.startCpuMs === undefined || this.lastCpuMs === undefined) return "an unknown amount of";
    return ((this.lastCpuMs - this.startCpuMs) / 1000).toFixed(1);
  }
}

export interface ReadyWaitOptions {
  /** The outer limit: gives up after this long, however much progress the process makes. */
  timeoutMs: number;
  /** Gives up sooner when the process has used no CPU and written nothing for this long. */
  stallMs?: number;
  /** How often to probe. */
  everyMs?: number;
}

/**
 * Polls `probe` until it resolves true. Fails at once if `exited()` says the process is gone,
 * when it stalls, or at the outer limit; each failure says what was slow and how it behaved.
 */
export async function waitWhileProgressing(
  subject: { name: string; pid: number; exited: () => string | undefined; outputSize: () => number },
  probe: () => Promise<boolean>,
  what: string,
  options: ReadyWaitOptions,
): Promise<void> {
  const startedAt = Date.now();
  const stallMs = options.stallMs ?? DEFAULT_STALL_MS;
  const watch = new ProgressWatch(subject.pid, subject.outputSize);
  for (;;) {
    const exit = subject.exited();
    if (exit !== undefined) throw new Error(`${subject.name} exited (${exit}) before it could ${what}`);
    if (await probe().catch(() => false)) return;
    const elapsedMs = Date.now() - startedAt;
    const idleMs = watch.idleMs();
    if (idleMs >= stallMs) {
      throw new ReadinessTimeoutError(
        `${subject.name} (pid ${subject.pid}) stalled: it did not ${what}, and used no CPU and wrote nothing for ${Math.round(idleMs / 1000)} s (${machineLoad()})`,
      );
    }
    if (elapsedMs >= options.timeoutMs) {
      throw new ReadinessTimeoutError(
        `${subject.name} (pid ${subject.pid}) did not ${what} within ${Math.round(elapsedMs / 1000)} s; it was still starting (it used ${watch.cpuSecondsUsed()} s of CPU meanwhile; ${machineLoad()})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.everyMs ?? 100));
  }
}
