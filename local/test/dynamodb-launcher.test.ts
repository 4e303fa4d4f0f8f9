import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { startDynamoDbLocal } from "../dynamodb/launcher.js";
import { localDynamoDbClient } from "../dynamodb/tables.js";
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
