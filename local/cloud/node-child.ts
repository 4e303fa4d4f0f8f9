import { type ChildProcess, fork } from "node:child_process";
import { closeSync, mkdirSync, openSync, readSync, statSync } from "node:fs";
import path from "node:path";
import { PROJECT_ROOT } from "../../shared/paths.js";
import { waitWhileProgressing } from "../process/readiness.js";
import { describeExit, type ExitStatus } from "../process/supervised.js";
import { type ChildMessage, SETTINGS_VARIABLE, type SupervisorMessage, type SupervisorOrder } from "./ipc.js";
import type { ChildDefinition, RunningProcess } from "./supervisor.js";

/**
 * Set, every node child writes a V8 CPU profile into this folder when it exits: how
 * `npm run bench:local` splits a region process's CPU between API emulation, function and SDK.
 */
export const CPU_PROFILE_VARIABLE = "CALCBURST_CPU_PROFILE_DIR";
const STOP_GRACE_MS = 3000;

export interface NodeChildOptions {
  name: string;
  script: string;
  /** Read at every start, so a restarted child gets the settings of the moment (a kill switch, say). */
  settings: () => unknown;
  logFile: string;
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** What the file got from `offset` on, at most its last `limit` characters: a failed start's own words. */
/** How long the supervisor waits for a child to answer an order, unless the caller says otherwise. */
const ORDER_DEADLINE_MS = 10_000;

function tailSince(file: string, offset: number, limit = 2000): string {
  try {
    const length = Math.min(limit, fileSize(file) - offset);
    if (length <= 0) return "";
    const buffer = Buffer.alloc(length);
    const descriptor = openSync(file, "r");
    try {
      readSync(descriptor, buffer, 0, length, fileSize(file) - length);
    } finally {
      closeSync(descriptor);
    }
    return buffer.toString("utf8").trim();
  } catch {
    return "";
  }
}

/**
 * A TypeScript process of the local cloud (a region API or the replicator), started with tsx,
 * its output appended to a log file, with an IPC channel that carries orders and, by closing,
 * tells the child its supervisor is gone. The supervisor (supervisor.ts) decides when it starts.
 */
export class NodeChild implements ChildDefinition {
  private child: ChildProcess | undefined;
  private nextRequestId = 0;

  constructor(private readonly options: NodeChildOptions) {}

  get name(): string {
    return this.options.name;
  }

  /** Starts the child and resolves once it reports that it serves. */
  async launch(readyTimeoutMs: number): Promise<RunningProcess> {
    mkdirSync(path.dirname(this.options.logFile), { recursive: true });
    const log = openSync(this.options.logFile, "a");
    const child = fork(this.options.script, [], {
      cwd: PROJECT_ROOT,
      execArgv: [
        "--import",
        "tsx",
        ...(process.env[CPU_PROFILE_VARIABLE]
          ? ["--cpu-prof", `--cpu-prof-dir=${process.env[CPU_PROFILE_VARIABLE]}`]
          : []),
      ],
      env: { ...process.env, [SETTINGS_VARIABLE]: JSON.stringify(this.options.settings()) },
      stdio: ["ignore", log, log, "ipc"],
    });
    closeSync(log);
    // An order sent just as the child dies fails by its own timeout; the error event must not end the supervisor.
    child.on("error", () => undefined);
    this.child = child;
    const exitStatus = new Promise<ExitStatus>((resolve) =>
      child.once("exit", (code, signal) => resolve({ code, signal })),
    );
    const stop = () => this.stopProcess(child, exitStatus);
    let ready = false;
    const onMessage = (message: ChildMessage) => {
      if (message.type === "ready") ready = true;
    };
    child.on("message", onMessage);
    const exited = () =>
      child.exitCode !== null || child.signalCode !== null
        ? describeExit({ code: child.exitCode, signal: child.signalCode })
        : undefined;
    const logSizeAtStart = fileSize(this.options.logFile);
    try {
      if (child.pid === undefined) throw new Error(`${this.name} could not be started`);
      await waitWhileProgressing(
        { name: this.name, pid: child.pid, exited, outputSize: () => fileSize(this.options.logFile) - logSizeAtStart },
        async () => ready,
        "report that it serves",
        { timeoutMs: readyTimeoutMs, everyMs: 25 },
      );
    } catch (error) {
      await stop();
      if (error instanceof Error) {
        const said = tailSince(this.options.logFile, logSizeAtStart);
        error.message += `; see ${this.options.logFile}${said === "" ? "" : `, which ends:\n${said}`}`;
      }
      throw error;
    } finally {
      child.off("message", onMessage);
    }
    return { pid: child.pid, exitStatus, stop };
  }

  private async stopProcess(child: ChildProcess, exitStatus: Promise<ExitStatus>): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
    await exitStatus;
    clearTimeout(timer);
  }

  /**
   * Sends an order and waits for the child's answer to that very order. The default deadline is
   * generous: a fault or release order that times out fails a drill, and on a machine whose load
   * average is many times its cores a healthy child took more than 2 s to answer (issue 13's
   * global3 drill). A dead child is caught sooner by its exit, not by this deadline.
   */
  request(order: SupervisorOrder, timeoutMs = ORDER_DEADLINE_MS): Promise<Extract<ChildMessage, { type: "answer" }>> {
    const child = this.child;
    if (child === undefined || !child.connected) return Promise.reject(new Error(`${this.name} is not running`));
    this.nextRequestId += 1;
    const requestId = this.nextRequestId;
    return new Promise((resolve, reject) => {
      const settle = () => {
        clearTimeout(timer);
        child.off("message", onMessage);
        child.off("exit", onExit);
      };
      const timer = setTimeout(() => {
        settle();
        reject(new Error(`${this.name} did not answer ${order.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (answer: ChildMessage) => {
        if (answer.type !== "answer" || answer.requestId !== requestId) return;
        settle();
        resolve(answer);
      };
      const onExit = () => {
        settle();
        reject(new Error(`${this.name} exited before it answered ${order.type}`));
      };
      child.on("message", onMessage);
      child.once("exit", onExit);
      child.send({ ...order, requestId } satisfies SupervisorMessage);
    });
  }
}
