import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { assertJava, ensureDynamoDbLocal, javaExecutable } from "./jar.js";
import { localDynamoDbClient } from "./tables.js";

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  pid: number;
  /** Stops the process (and its watchdog); resolves once it has exited. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** A fixed port; by default a free one is picked. */
  port?: number;
  /** A folder to keep data in across restarts; in memory when absent. */
  dataDirectory?: string;
  /** How long to wait for the first answer. */
  readyTimeoutMs?: number;
  log?: (line: string) => void;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** DynamoDB Local answers any well-formed request once it listens; poll until it does. */
async function waitUntilReady(
  endpoint: string,
  child: ChildProcess,
  timeoutMs: number,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // One attempt per poll: the SDK's own retries would only slow the loop down.
  const probe = localDynamoDbClient(endpoint, "us-east-1", { maxAttempts: 1 });
  try {
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `DynamoDB Local exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output()}`,
        );
      }
      try {
        await probe.send(new ListTablesCommand({}), { abortSignal: AbortSignal.timeout(1000) });
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms:\n${output()}`);
  } finally {
    probe.destroy();
  }
}

/**
 * Kills `childPid` once `parentPid` is gone. Normal exits stop the child themselves; this covers
 * a parent killed with SIGKILL, so no java process outlives the test run or the local cloud.
 */
function startWatchdog(parentPid: number, childPid: number): void {
  const script = `while kill -0 ${parentPid} 2>/dev/null && kill -0 ${childPid} 2>/dev/null; do sleep 1; done; kill ${childPid} 2>/dev/null; sleep 3; kill -9 ${childPid} 2>/dev/null; exit 0`;
  const watchdog = spawn("sh", ["-c", script], { detached: true, stdio: "ignore" });
  watchdog.unref();
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

/** Starts Amazon's DynamoDB Local (shared database, telemetry off) and waits until it answers. */
export async function startDynamoDbLocal(options: StartOptions = {}): Promise<DynamoDbLocal> {
  assertJava();
  const files = ensureDynamoDbLocal(options.log);
  const port = options.port ?? (await freePort());
  const storage = options.dataDirectory !== undefined ? ["-dbPath", options.dataDirectory] : ["-inMemory"];
  const child = spawn(
    javaExecutable(),
    [
      "-Xms64m",
      `-Djava.library.path=${files.libraryPath}`,
      "-jar",
      files.jar,
      ...storage,
      "-sharedDb",
      "-port",
      String(port),
      "-disableTelemetry",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const capture = (chunk: Buffer) => {
    if (output.length < 20_000) output += chunk.toString();
  };
  child.stdout?.on("data", capture);
  child.stderr?.on("data", capture);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  running.add(child);
  installExitHook();
  if (child.pid === undefined) throw new Error("could not start java for DynamoDB Local");
  startWatchdog(process.pid, child.pid);
  const endpoint = `http://127.0.0.1:${port}`;

  const stop = async () => {
    running.delete(child);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGCONT");
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
  };
  try {
    await waitUntilReady(endpoint, child, options.readyTimeoutMs ?? 30_000, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, port, pid: child.pid, stop };
}
