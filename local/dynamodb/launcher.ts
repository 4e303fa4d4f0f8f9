import { mkdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { ListTablesCommand } from "@aws-sdk/client-dynamodb";
import systemPackages from "../../shared/system-packages.json";
import { findOnPath } from "../process/executable.js";
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
  /** The JVM's tuning flags (default DYNAMODB_JVM_FLAGS); the benchmark compares them with none. */
  jvmFlags?: readonly string[];
}

/** Linux's range of ephemeral ports: where every outgoing connection's local port comes from. */
function ephemeralPortRange(): { low: number; high: number } {
  try {
    const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (low !== undefined && high !== undefined && Number.isInteger(low) && Number.isInteger(high))
      return { low, high };
  } catch {
    // not Linux: IANA's dynamic range, which other systems use
  }
  return { low: 49152, high: 65535 };
}

/** The lowest port freePort hands out: clear of the well-known and most registered services. */
const LOWEST_PORT = 10_000;
const handedOut = new Set<number>();

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * A port that is free now, for a child to listen on a moment later. It is chosen outside the
 * ephemeral range: a port the kernel picks for `listen(0)` comes from the range every outgoing
 * connection draws its local port from, so between the check and the child's listen, any client
 * socket on the machine could take it (a region API failed to start with EADDRINUSE that way
 * while a load test was opening connections). Below the range, only another listener can.
 */
export async function freePort(): Promise<number> {
  const { low, high } = ephemeralPortRange();
  const [from, to] = low - LOWEST_PORT >= 1000 ? [LOWEST_PORT, low - 1] : [high + 1, 65535];
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = from + Math.floor(Math.random() * (to - from + 1));
    if (handedOut.has(port) || !(await bindable(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port between ${from} and ${to} after 200 tries`);
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

/** The command that installs what lets a region on disk write without fsync. */
const NO_FSYNC_INSTALL_COMMAND = `apt-get install -y --no-install-recommends ${systemPackages.storage.packages.join(" ")}`;

let warnedSyncedStorage = false;

function warnSyncedStorageOnce(log: (line: string) => void): void {
  if (warnedSyncedStorage) return;
  warnedSyncedStorage = true;
  log(
    `note: eatmydata is missing, so DynamoDB Local syncs every write to disk and writes cost about 3× as much; install it with: ${NO_FSYNC_INSTALL_COMMAND}`,
  );
}

/**
 * The command line that starts a JVM whose fsyncs do nothing, when eatmydata is installed. A
 * region's SQLite file still survives a kill -9 of its DynamoDB Local: what a process wrote is in
 * the kernel's page cache whether or not it was synced (SQLite's `synchronous=OFF` promise). What
 * an fsync adds is safety against a power cut or a kernel crash, which on this machine take every
 * region down at once, so the local cloud has nothing to gain from it; with it, a write to
 * DynamoDB Local on disk cost about 3× as much (docs/LOCAL-CLOUD.md#durable-regions).
 */
function withoutFsync(command: string, args: string[]): { command: string; args: string[]; synced: boolean } {
  const eatmydata = findOnPath(systemPackages.storage.binaries.eatmydata);
  // The wrapper execs the command, so the PID the supervisor watches is the JVM's own.
  if (eatmydata !== undefined) return { command: eatmydata, args: ["--", command, ...args], synced: false };
  return { command, args, synced: true };
}

/**
 * The JVM's client compiler only (C1) and the serial collector. DynamoDB Local in the local cloud
 * lives minutes, not days, on two cores shared with everything else; the server compiler (C2)
 * and the parallel collector's threads cost more CPU than they ever pay back there. Measured
 * side by side (`npm run bench:jvm`, docs/BENCHMARKS.md): it answers sooner after start and
 * serves the same requests with well under half the CPU.
 */
export const DYNAMODB_JVM_FLAGS = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"];

/** Starts Amazon's DynamoDB Local (shared database, telemetry off) and waits until it answers. */
export async function startDynamoDbLocal(options: StartOptions = {}): Promise<DynamoDbLocal> {
  assertJava();
  const files = ensureDynamoDbLocal(options.log);
  const port = options.port ?? (await freePort());
  if (options.dataDirectory !== undefined) mkdirSync(options.dataDirectory, { recursive: true });
  const storage = options.dataDirectory !== undefined ? ["-dbPath", options.dataDirectory] : ["-inMemory"];
  const javaArguments = [
    "-Xms64m",
    ...(options.jvmFlags ?? DYNAMODB_JVM_FLAGS),
    `-Djava.library.path=${files.libraryPath}`,
    "-jar",
    files.jar,
    ...storage,
    "-sharedDb",
    "-port",
    String(port),
    "-disableTelemetry",
  ];
  const launch =
    options.dataDirectory !== undefined
      ? withoutFsync(javaExecutable(), javaArguments)
      : { command: javaExecutable(), args: javaArguments, synced: false };
  if (launch.synced) warnSyncedStorageOnce(options.log ?? ((line: string) => console.error(line)));
  const java = spawnSupervised(
    options.name ?? "DynamoDB Local",
    launch.command,
    launch.args,
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
