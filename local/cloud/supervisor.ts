import { describeExit, type ExitStatus } from "../process/supervised.js";

/**
 * The local cloud's process supervisor: every child (DynamoDB Local, the region APIs with their
 * data endpoints, the replicator, each Prometheus, the blackbox exporters, Alertmanager) is
 * started through it, and one that dies without being asked to is reported at once and started
 * again with backoff, on the same port, so nothing that talks to it needs to change. What it
 * knows about each child is what `npm run local -- status` and state.json show: a pid only while
 * that process is alive.
 */

/** One start of a child, as the supervisor holds it. */
export interface RunningProcess {
  pid: number;
  /** Resolves once the process has exited, asked to or not. */
  exitStatus: Promise<ExitStatus>;
  /** Asks it to stop (forcing it after a grace period); resolves once it has exited. */
  stop(): Promise<void>;
}

export interface ChildDefinition {
  /** How messages and `status` call it: "us-east-1 DynamoDB Local". */
  name: string;
  /**
   * Starts the process and resolves once it serves, on the same port and with the same data as
   * before; rejects if it cannot within `readyTimeoutMs` (or stalls, or exits).
   */
  launch(readyTimeoutMs: number): Promise<RunningProcess>;
}

export type ChildState = "starting" | "running" | "restarting" | "stopped";

export interface ChildStatus {
  name: string;
  state: ChildState;
  /** The process's pid while it runs, null whenever it does not. */
  pid: number | null;
  /** How often it has come back after dying. */
  restarts: number;
  /** Its latest death: when, which process and how it ended (a signal or an exit code). */
  lastDeath: { at: string; pid: number; how: string } | null;
  /** When it last came back after a death, and how long it was gone. */
  lastBack: { at: string; downMs: number } | null;
}

export interface RestartBackoff {
  /** The wait before the first restart after a death. */
  firstMs: number;
  /** Each failed or short-lived restart doubles the wait, up to this. */
  maxMs: number;
  /** A child that ran this long before dying is restarted after `firstMs` again. */
  stableMs: number;
}

export const DEFAULT_BACKOFF: RestartBackoff = { firstMs: 250, maxMs: 30_000, stableMs: 30_000 };

export interface SupervisorOptions {
  log: (line: string) => void;
  /** Called whenever a child's pid or state changes (the cloud rewrites state.json). */
  onChange: () => void;
  /** How long a restart may take to be ready: the same budget as the first start. */
  readyTimeoutMs: number;
  backoff?: RestartBackoff;
}

/** A child under supervision: started, stopped on purpose, or brought back after a death. */
export class SupervisedChild {
  private running: RunningProcess | undefined;
  private state: ChildState = "stopped";
  /** Whether it should be running: false after a deliberate stop, so its exit is no death. */
  private wanted = false;
  private restarts = 0;
  private lastDeath: ChildStatus["lastDeath"] = null;
  private lastBack: ChildStatus["lastBack"] = null;
  private runningSince = 0;
  private nextDelayMs: number;
  private retryTimer: NodeJS.Timeout | undefined;
  /** A start in progress; a stop waits for it, and stops what it started. */
  private launching: Promise<void> | undefined;
  private readonly backOnline: (() => void)[] = [];

  constructor(
    private readonly definition: ChildDefinition,
    private readonly supervisor: Supervisor,
  ) {
    this.nextDelayMs = supervisor.backoff.firstMs;
  }

  get name(): string {
    return this.definition.name;
  }

  /** The pid of the running process; undefined while it is starting, dead or stopped. */
  get pid(): number | undefined {
    return this.state === "running" ? this.running?.pid : undefined;
  }

  status(): ChildStatus {
    return {
      name: this.name,
      state: this.state,
      pid: this.pid ?? null,
      restarts: this.restarts,
      lastDeath: this.lastDeath,
      lastBack: this.lastBack,
    };
  }

  /**
   * Starts it and resolves once it serves; rejects, leaving it stopped, if it cannot within
   * `readyTimeoutMs` (by default the supervisor's).
   */
  async start(readyTimeoutMs = this.supervisor.readyTimeoutMs): Promise<void> {
    // Already up, or on its way (a restart in progress brings it back by itself).
    if (this.state !== "stopped") return;
    this.wanted = true;
    this.setState("starting");
    try {
      await this.launchAndAdopt(readyTimeoutMs);
    } catch (error) {
      this.wanted = false;
      this.setState("stopped");
      throw error;
    }
  }

  /** Stops it on purpose: no restart follows. Resolves once no process of it is left. */
  async stop(): Promise<void> {
    this.wanted = false;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.launching;
    const running = this.running;
    if (running !== undefined) await running.stop();
    this.running = undefined;
    this.setState("stopped");
  }

  /** Sends a signal to the running process (a fault); returns its pid, or undefined when none runs. */
  signal(signal: NodeJS.Signals): number | undefined {
    const pid = this.pid;
    if (pid !== undefined) process.kill(pid, signal);
    return pid;
  }

  /** Resolves once it runs (at once if it does); rejects after `timeoutMs`. */
  waitUntilRunning(timeoutMs: number): Promise<void> {
    if (this.state === "running") return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.backOnline.splice(this.backOnline.indexOf(done), 1);
        reject(new Error(`${this.name} is not back after ${Math.round(timeoutMs / 1000)} s (${this.state})`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.backOnline.push(done);
    });
  }

  private setState(state: ChildState): void {
    this.state = state;
    if (state === "running") for (const done of this.backOnline.splice(0)) done();
    this.supervisor.changed();
  }

  /** Starts one process; a stop meanwhile waits for it (`launching`) and it is stopped at once. */
  private launchAndAdopt(readyTimeoutMs = this.supervisor.readyTimeoutMs): Promise<RunningProcess | undefined> {
    const attempt = this.adopt(this.definition.launch(readyTimeoutMs));
    const settled = attempt.then(
      () => undefined,
      () => undefined,
    );
    this.launching = settled;
    void settled.then(() => {
      if (this.launching === settled) this.launching = undefined;
    });
    return attempt;
  }

  private async adopt(launched: Promise<RunningProcess>): Promise<RunningProcess | undefined> {
    const running = await launched;
    if (!this.wanted || this.supervisor.stopping) {
      await running.stop();
      return undefined;
    }
    this.running = running;
    this.runningSince = Date.now();
    void running.exitStatus.then((exit) => this.exited(running, exit));
    this.setState("running");
    return running;
  }

  private exited(running: RunningProcess, exit: ExitStatus): void {
    if (this.running !== running) return;
    this.running = undefined;
    if (!this.wanted || this.supervisor.stopping) {
      this.setState("stopped");
      return;
    }
    const { backoff } = this.supervisor;
    if (Date.now() - this.runningSince >= backoff.stableMs) this.nextDelayMs = backoff.firstMs;
    const diedAt = Date.now();
    this.lastDeath = { at: new Date(diedAt).toISOString(), pid: running.pid, how: describeExit(exit) };
    // The state file drops the pid before the line is printed: whoever reads the line and then
    // the state never sees the dead process as live.
    this.setState("restarting");
    this.supervisor.log(
      `supervisor: ${this.name} (pid ${running.pid}) died (${describeExit(exit)}); restarting it in ${this.nextDelayMs} ms`,
    );
    this.scheduleRestart(diedAt);
  }

  private scheduleRestart(diedAt: number): void {
    const delayMs = this.nextDelayMs;
    this.nextDelayMs = Math.min(this.supervisor.backoff.maxMs, delayMs * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.wanted || this.supervisor.stopping) return;
      this.launchAndAdopt()
        .then((running) => {
          if (running === undefined) return;
          const downMs = Date.now() - diedAt;
          this.restarts += 1;
          this.lastBack = { at: new Date().toISOString(), downMs };
          this.supervisor.changed();
          this.supervisor.log(
            `supervisor: ${this.name} is back (pid ${running.pid}) after ${(downMs / 1000).toFixed(1)} s`,
          );
        })
        .catch((error: unknown) => {
          if (!this.wanted || this.supervisor.stopping) return;
          const reason = error instanceof Error ? error.message : String(error);
          this.supervisor.log(
            `supervisor: ${this.name} could not be restarted: ${reason}; trying again in ${this.nextDelayMs} ms`,
          );
          this.scheduleRestart(diedAt);
        });
    }, delayMs);
  }
}

/** Every child of one local cloud. */
export class Supervisor {
  private readonly children: SupervisedChild[] = [];
  private shuttingDown = false;
  readonly backoff: RestartBackoff;

  constructor(private readonly options: SupervisorOptions) {
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
  }

  get readyTimeoutMs(): number {
    return this.options.readyTimeoutMs;
  }

  /** True once the cloud is stopping: nothing is restarted any more. */
  get stopping(): boolean {
    return this.shuttingDown;
  }

  /** Takes a child under supervision; it starts with its own `start()`. */
  add(definition: ChildDefinition): SupervisedChild {
    const child = new SupervisedChild(definition, this);
    this.children.push(child);
    return child;
  }

  status(): ChildStatus[] {
    return this.children.map((child) => child.status());
  }

  /** From now on a child's exit is not a death: the cloud is stopping them. */
  shutdown(): void {
    this.shuttingDown = true;
  }

  log(line: string): void {
    this.options.log(line);
  }

  changed(): void {
    this.options.onChange();
  }
}
