import { type ChildProcess, fork } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import path from "node:path";
import { PROJECT_ROOT } from "../../shared/paths.js";
import { type ChildMessage, SETTINGS_VARIABLE, type SupervisorMessage, type SupervisorOrder } from "./ipc.js";

const READY_TIMEOUT_MS = 30_000;
/**
 * Set, every node child writes a V8 CPU profile into this folder when it exits: how
 * `npm run bench:local` splits a region process's CPU between API emulation, function and SDK.
 */
export const CPU_PROFILE_VARIABLE = "CALCBURST_CPU_PROFILE_DIR";
const STOP_GRACE_MS = 3000;

export interface NodeChildOptions {
  name: string;
  script: string;
  settings: () => unknown;
  logFile: string;
  /** Called when the child exits without being asked to; the supervisor decides what to do. */
  onUnexpectedExit: (code: number | null, signal: NodeJS.Signals | null) => void;
}

/**
 * A TypeScript process of the local cloud (a region API or the replicator), started with tsx,
 * its output appended to a log file, with an IPC channel that carries orders and, by closing,
 * tells the child its supervisor is gone.
 */
export class NodeChild {
  private child: ChildProcess | undefined;
  private stopping = false;
  private nextRequestId = 0;

  constructor(private readonly options: NodeChildOptions) {}

  get name(): string {
    return this.options.name;
  }

  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  get running(): boolean {
    return this.pid !== undefined;
  }

  /** Starts the child and resolves with the port it reports once it serves. */
  async start(): Promise<number> {
    mkdirSync(path.dirname(this.options.logFile), { recursive: true });
    const log = openSync(this.options.logFile, "a");
    this.stopping = false;
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
    this.child = child;
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(
          new Error(`${this.name} did not start within ${READY_TIMEOUT_MS / 1000} s; see ${this.options.logFile}`),
        );
      }, READY_TIMEOUT_MS);
      const onMessage = (message: ChildMessage) => {
        if (message.type !== "ready") return;
        clearTimeout(timer);
        child.off("message", onMessage);
        child.off("exit", onEarlyExit);
        resolve(message.port);
      };
      const onEarlyExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${code}) while starting; see ${this.options.logFile}`));
      };
      child.on("message", onMessage);
      child.once("exit", onEarlyExit);
    });
    child.once("exit", (code, signal) => {
      if (!this.stopping && this.child === child) this.options.onUnexpectedExit(code, signal);
    });
    return port;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.stopping = true;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }

  /** Sends an order and waits for the child's answer to that very order. */
  request(order: SupervisorOrder, timeoutMs = 2000): Promise<Extract<ChildMessage, { type: "answer" }>> {
    const child = this.child;
    if (child === undefined || !child.connected) return Promise.reject(new Error(`${this.name} is not running`));
    this.nextRequestId += 1;
    const requestId = this.nextRequestId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.off("message", onMessage);
        reject(new Error(`${this.name} did not answer ${order.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (answer: ChildMessage) => {
        if (answer.type !== "answer" || answer.requestId !== requestId) return;
        clearTimeout(timer);
        child.off("message", onMessage);
        resolve(answer);
      };
      child.on("message", onMessage);
      child.send({ ...order, requestId } satisfies SupervisorMessage);
    });
  }
}
