import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { type ExitStatus, type SupervisedProcess, spawnSupervised, waitUntilReady } from "../process/supervised.js";
import { assertJava, ensureDynamoDbLocal, javaExecutable } from "./jar.js";
import { localDynamoDbClient } from "./tables.js";

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  pid: number;
  /** Resolves once the process has exited, asked to or not. */
  exitStatus: Promise<ExitStatus>;
  /** Stops the process (and its watchdog); resolves once it has exited. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** A fixed port; by default a free one is picked. */
  port?: number;
  /** A folder to keep data in across restarts (a SQLite file that survives kill -9); in memory when absent. */
  dataDirectory?: string;
  /**
   * How long to wait for the first answer, at most, while the JVM makes progress (it gives up
   * sooner if it stalls). The first answer comes after about 3 s on a quiet machine of this
   * kind and took more than 30 s on a busy one.
   */
  readyTimeoutMs?: number;
  /** What messages call it (default "DynamoDB Local"). */
  name?: string;
  /** Where the JVM's output goes, besides the error message of a failed start. */
  logFile?: string;
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

export const DYNAMODB_READY_TIMEOUT_MS = 180_000;

/** DynamoDB Local answers any well-formed request once it listens; poll until it does. */
async function waitUntilAnswering(java: SupervisedProcess, endpoint: string, timeoutMs: number): Promise<void> {
  // One attempt per poll: the SDK's own retries would only slow the loop down.
  const probe = localDynamoDbClient(endpoint, "us-east-1", { maxAttempts: 1 });
  try {
    await waitUntilReady(
      java,
      async () => {
        await probe.send(new ListTablesCommand({}), { abortSignal: AbortSignal.timeout(1000) });
        return true;
      },
      { timeoutMs },
      `answer on ${endpoint}`,
    );
  } finally {
    probe.destroy();
  }
}

/** Starts Amazon's DynamoDB Local (shared database, telemetry off) and waits until it answers. */
export async function startDynamoDbLocal(options: StartOptions = {}): Promise<DynamoDbLocal> {
  assertJava();
  const files = ensureDynamoDbLocal(options.log);
  const port = options.port ?? (await freePort());
  if (options.dataDirectory !== undefined) mkdirSync(options.dataDirectory, { recursive: true });
  const storage = options.dataDirectory !== undefined ? ["-dbPath", options.dataDirectory] : ["-inMemory"];
  const java = spawnSupervised(
    options.name ?? "DynamoDB Local",
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
    options.logFile !== undefined ? { logFile: options.logFile } : {},
  );
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = () => java.stop();
  try {
    await waitUntilAnswering(java, endpoint, options.readyTimeoutMs ?? DYNAMODB_READY_TIMEOUT_MS);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, port, pid: java.pid, exitStatus: java.exitStatus, stop };
}
