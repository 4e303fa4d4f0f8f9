import { type ChildProcess, spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { afterAll, beforeAll, expect } from "vitest";
import { PROJECT_ROOT } from "../../../shared/paths.js";
import { type CloudState, type CloudStatus, DEFAULT_READY_TIMEOUT_MS } from "../../cloud/cloud.js";
import { spawnLocalCloud } from "../../cloud/spawn.js";
import { isRunning } from "./processes.js";

export const ROOT = PROJECT_ROOT;

export interface RunningCloud {
  routerUrl: string;
  stateDirectory: string;
  process: ChildProcess;
  output(): string;
  /** The state file as it is now (PIDs change when a child is restarted). */
  state(): CloudState;
  status(): Promise<CloudStatus>;
  /** Runs `npm run local -- <args>` against this cloud, as a user would. */
  cli(...args: string[]): { status: number | null; stdout: string; stderr: string };
  /** Every PID the cloud has had: the supervisor, APIs, data endpoints, DynamoDB Locals, the replicator, a witness. */
  pids(): number[];
  stop(): Promise<void>;
}

export function pidsOf(state: CloudState): number[] {
  const pids = [state.supervisor.pid, state.replicator.pid];
  for (const region of Object.values(state.regions)) pids.push(region.api.pid, region.data.pid, region.dynamodb.pid);
  if (state.witness !== undefined) pids.push(state.witness.pid);
  if ("pids" in state.monitoring) pids.push(...state.monitoring.pids);
  return pids.filter((pid): pid is number => typeof pid === "number");
}

/**
 * Starts the local cloud the way `npm start` does (the CLI, the prod stack, the built bundle)
 * in its own process, on free ports, with its own state folder; resolves at the ready line.
 */
export async function startCloud(options: {
  timeScale: number;
  /** Its own process group, as a terminal gives it; Ctrl-C then signals the group. */
  detached?: boolean;
  /** Start the Prometheus servers and Alertmanager too (npm start does; most suites need not). */
  monitoring?: boolean;
  /** The stack file the cloud runs (default prod). */
  stack?: string;
  /** A state folder of the caller's, kept when the cloud stops (by default a new one, removed then). */
  stateDirectory?: string;
  /** --fresh: empty tables even if the state folder holds a previous run's. */
  fresh?: boolean;
}): Promise<RunningCloud> {
  const spawned = await spawnLocalCloud(options);
  const { child, stateDirectory, routerUrl, output } = spawned;
  const seenPids = new Set<number>();
  const readState = () => {
    const state = spawned.state();
    for (const pid of pidsOf(state)) seenPids.add(pid);
    return state;
  };
  readState();
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null) resolve();
    else child.once("exit", () => resolve());
  });

  return {
    routerUrl,
    stateDirectory,
    process: child,
    output,
    state: readState,
    status: async () => {
      const response = await fetch(`${readState().control.url}/status`);
      return (await response.json()) as CloudStatus;
    },
    cli: (...args) => {
      const run = spawnSync(
        process.execPath,
        ["--import", "tsx", "local/cli.ts", ...args, "--state-dir", stateDirectory],
        // As long as the CLI's own control call may wait: a restore waits for a restarted process.
        { cwd: ROOT, encoding: "utf8", timeout: DEFAULT_READY_TIMEOUT_MS + 30_000 },
      );
      readState();
      return { status: run.status, stdout: run.stdout, stderr: run.stderr };
    },
    pids: () => {
      try {
        readState();
      } catch {
        // Gone once the cloud has stopped: what was seen before is what counts.
      }
      return [...seenPids];
    },
    stop: async () => {
      try {
        readState();
      } catch {
        // already stopped
      }
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
      if (options.stateDirectory === undefined) rmSync(stateDirectory, { recursive: true, force: true });
    },
  };
}

/** PIDs from `pids` still alive, after giving them `timeoutMs` to go. */
export async function survivors(pids: number[], timeoutMs = 10_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let alive = pids.filter(isRunning);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    alive = alive.filter(isRunning);
  }
  return alive;
}

export interface RoutedResponse {
  status: number;
  region: string | null;
  route: string | null;
  body: Record<string, unknown>;
}

/** One request through the router as a client in `location` (with its own resolver `clientId`). */
export async function request(
  routerUrl: string,
  init: { path: string; location?: string; clientId?: string; targetRegion?: string; body?: unknown },
): Promise<RoutedResponse> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (init.location !== undefined) headers["x-client-location"] = init.location;
  if (init.clientId !== undefined) headers["x-client-id"] = init.clientId;
  if (init.targetRegion !== undefined) headers["x-calcburst-target-region"] = init.targetRegion;
  const response = await fetch(`${routerUrl}${init.path}`, {
    method: init.body === undefined ? "GET" : "POST",
    headers,
    ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  return {
    status: response.status,
    region: response.headers.get("x-calcburst-region"),
    route: response.headers.get("x-calcburst-route"),
    body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>),
  };
}

/** Writes `body` through the router from each location twice, us and eu in turn: what a newcomer's first minute sends. */
export async function writeFromEachLocation(routerUrl: string, body: unknown): Promise<RoutedResponse[]> {
  const answers: RoutedResponse[] = [];
  for (const location of ["us", "eu", "us", "eu"]) {
    answers.push(await request(routerUrl, { path: "/v1/calculations", location, body }));
  }
  return answers;
}

/** Polls `probe` every `everyMs` until it returns a value other than undefined, or throws at the deadline. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * One local cloud for a suite: started before its tests, stopped after them, and checked to
 * have left no process behind. Returns a getter for the running cloud.
 */
export function useCloud(
  timeScale: number,
  options: { monitoring?: boolean; stack?: string } = {},
): () => RunningCloud {
  let cloud: RunningCloud | undefined;
  let starting: Promise<RunningCloud> | undefined;
  // As long as the cloud's own --ready-timeout and a little more: on a busy machine the start
  // takes longer, and the cloud, not the hook, should be the one to say what was slow.
  beforeAll(async () => {
    starting = startCloud({ timeScale, ...options });
    cloud = await starting;
  }, DEFAULT_READY_TIMEOUT_MS + 60_000);
  afterAll(async () => {
    // A start still under way when its hook gave up must be stopped too, not left running.
    cloud ??= await starting?.catch(() => undefined);
    const pids = cloud?.pids() ?? [];
    await cloud?.stop();
    expect(await survivors(pids)).toEqual([]);
  }, DEFAULT_READY_TIMEOUT_MS + 60_000);
  return () => {
    if (cloud === undefined) throw new Error("the local cloud is not running");
    return cloud;
  };
}

export type CloudMonitoring = Extract<CloudState["monitoring"], { global: unknown }>;

/** The running cloud's monitoring endpoints; throws when it runs without monitoring. */
export function monitoringOf(state: CloudState): CloudMonitoring {
  const { monitoring } = state;
  if (!("global" in monitoring)) throw new Error(`monitoring is off: ${monitoring.disabled}`);
  return monitoring;
}
