import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { GetItemCommand, ListTablesCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { freePort, startDynamoDbLocal } from "../dynamodb/launcher.js";
import { ensureCalculationsTable, localDynamoDbClient } from "../dynamodb/tables.js";
import { isRunning, pollUntil } from "./support/processes.js";

const ROOT = path.resolve(__dirname, "..", "..");

describe("DynamoDB Local launcher", () => {
  it("starts DynamoDB Local on a free port and stops it", async () => {
    const instance = await startDynamoDbLocal();
    try {
      const client = localDynamoDbClient(instance.endpoint, "us-east-1");
      const tables = await client.send(new ListTablesCommand({}));
      client.destroy();
      expect(tables.TableNames).toEqual([]);
    } finally {
      await instance.stop();
    }
    expect(isRunning(instance.pid)).toBe(false);
  });

  it("leaves no java process behind when its parent is killed with SIGKILL", async () => {
    const launcher = JSON.stringify(path.join(ROOT, "local", "dynamodb", "launcher.ts"));
    const script = `require(${launcher}).startDynamoDbLocal().then((d) => console.log("pid " + d.pid))`;
    // `--import tsx` keeps one process: the tsx CLI would run the script in a child of its own.
    const parent = spawn(process.execPath, ["--import", "tsx", "-e", script], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    });
    const javaPid = await new Promise<number>((resolve, reject) => {
      parent.stdout.on("data", (chunk: Buffer) => {
        const match = /pid (\d+)/.exec(chunk.toString());
        if (match !== null) resolve(Number(match[1]));
      });
      parent.once("exit", () => reject(new Error("the parent exited before DynamoDB Local started")));
    });
    try {
      expect(isRunning(javaPid)).toBe(true);
      parent.kill("SIGKILL");
      expect(await pollUntil(() => !isRunning(javaPid), 15_000)).toBe(true);
    } finally {
      // Should the watchdog fail, the test must not be what leaves a java process behind.
      if (isRunning(javaPid)) process.kill(javaPid, "SIGKILL");
    }
  });

  it("keeps a table on disk without fsync: the JVM runs under eatmydata and an acknowledged write survives its kill -9", async () => {
    // Prepare
    const dataDirectory = mkdtempSync(path.join(tmpdir(), "calcburst-ddb-disk-"));
    const table = "calcburst-calculations";
    const first = await startDynamoDbLocal({ dataDirectory });
    let second: Awaited<ReturnType<typeof startDynamoDbLocal>> | undefined;
    try {
      await ensureCalculationsTable(first.endpoint, "us-east-1", table);
      const writer = localDynamoDbClient(first.endpoint, "us-east-1");
      await writer.send(new PutItemCommand({ TableName: table, Item: { id: { S: "kept" }, result: { N: "42" } } }));
      writer.destroy();

      // Act
      const environment = readFileSync(`/proc/${first.pid}/environ`, "utf8").split("\0");
      const command = readFileSync(`/proc/${first.pid}/comm`, "utf8").trim();
      process.kill(first.pid, "SIGKILL");
      await first.exitStatus;
      second = await startDynamoDbLocal({ dataDirectory });
      const reader = localDynamoDbClient(second.endpoint, "us-east-1");
      const read = await reader.send(new GetItemCommand({ TableName: table, Key: { id: { S: "kept" } } }));
      reader.destroy();

      // Assess
      expect(command).toBe("java");
      expect(environment.find((entry) => entry.startsWith("LD_PRELOAD="))).toMatch(/libeatmydata/);
      expect(read.Item?.result).toEqual({ N: "42" });
    } finally {
      await first.stop();
      await second?.stop();
      rmSync(dataDirectory, { recursive: true, force: true });
    }
  }, 120_000);

  it("hands out ports below the ephemeral range, where no outgoing connection can take them, and never one twice", async () => {
    // Prepare: the range every client socket's local port comes from.
    const [low] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);

    // Act
    const ports: number[] = [];
    for (let i = 0; i < 50; i++) ports.push(await freePort());

    // Assess
    expect(ports.filter((port) => port >= (low ?? 0))).toEqual([]);
    expect(new Set(ports).size).toBe(ports.length);
  });

  it("names the package to install when java cannot be run", () => {
    const script = `require(${JSON.stringify(path.join(ROOT, "local", "dynamodb", "jar.ts"))}).assertJava()`;
    const run = spawnSync(process.execPath, ["--import", "tsx", "-e", script], {
      cwd: ROOT,
      env: { ...process.env, JAVA_HOME: path.join(ROOT, "no-such-jdk") },
      encoding: "utf8",
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("apt-get install -y openjdk-17-jre-headless");
  });
});
