import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PROJECT_ROOT } from "../../shared/paths.js";
import { type CloudState, DEFAULT_READY_TIMEOUT_MS } from "./cloud.js";
import { CPU_PROFILE_VARIABLE } from "./node-child.js";

const READY_LINE = /CalcBurst local cloud ready: (\S+)/;
/** The cloud gives up at its --ready-timeout and says why; the harness waits this much longer to hear it. */
const REPORT_GRACE_MS = 30_000;

export interface SpawnedCloud {
  child: ChildProcess;
  routerUrl: string;
  stateDirectory: string;
  /** Everything the cloud printed so far. */
  output(): string;
  /** The state file as it is now. */
  state(): CloudState;
}

/**
 * Runs `npm start`'s command (`local/cli.ts up`, no demo, free ports, a state folder of its own)
 * as a child process and resolves at its ready line: for the tests and `npm run bench:local`.
 */
export async function spawnLocalCloud(
  options: {
    timeScale?: number;
    detached?: boolean;
    /** The cloud's own --ready-timeout; the harness waits a little longer to hear why it failed. */
    readyTimeoutMs?: number;
    /** An existing state folder (a previous run's data is in it); by default a new one. */
    stateDirectory?: string;
    /** --fresh: start with empty tables even when the state folder holds a previous run's. */
    fresh?: boolean;
    monitoring?: boolean;
    /** Benchmark only: the functions write to DynamoDB Local directly (see LocalCloudOptions). */
    bypassDataEndpoint?: boolean;
    /** Benchmark only: every node child writes a CPU profile here when it exits. */
    cpuProfileDirectory?: string;
    stack?: string;
  } = {},
): Promise<SpawnedCloud> {
  const stateDirectory = options.stateDirectory ?? mkdtempSync(path.join(tmpdir(), "calcburst-cloud-"));
  const readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const child = spawn(
    process.execPath,
    [
      ...["--import", "tsx", "local/cli.ts", "up", "--no-demo", "--port", "0", "--stack", options.stack ?? "prod"],
      ...["--time-scale", String(options.timeScale ?? 1), "--state-dir", stateDirectory, "--log-level", "warn"],
      ...["--ready-timeout", String(readyTimeoutMs / 1000)],
      ...(options.fresh === true ? ["--fresh"] : []),
      // Six more processes per cloud: only the suites about monitoring pay for them.
      ...(options.monitoring === true ? [] : ["--no-monitoring"]),
      ...(options.bypassDataEndpoint === true ? ["--bypass-data-endpoint"] : []),
    ],
    {
      cwd: PROJECT_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      detached: options.detached ?? false,
      env:
        options.cpuProfileDirectory === undefined
          ? process.env
          : { ...process.env, [CPU_PROFILE_VARIABLE]: options.cpuProfileDirectory },
    },
  );
  let output = "";
  const capture = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on("data", capture);
  child.stderr?.on("data", capture);
  const routerUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGTERM");
      reject(new Error(`the local cloud was not ready within ${readyTimeoutMs / 1000} s:\n${output}`));
    }, readyTimeoutMs + REPORT_GRACE_MS);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`the local cloud exited (${code}) before it was ready:\n${output}`));
    };
    const onData = () => {
      const url = READY_LINE.exec(output)?.[1];
      if (url === undefined) return;
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.off("exit", onExit);
      resolve(url);
    };
    child.stdout?.on("data", onData);
    child.once("exit", onExit);
  });
  return {
    child,
    routerUrl,
    stateDirectory,
    output: () => output,
    state: () => JSON.parse(readFileSync(path.join(stateDirectory, "state.json"), "utf8")) as CloudState,
  };
}
