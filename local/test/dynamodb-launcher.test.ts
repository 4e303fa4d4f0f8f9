import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { startDynamoDbLocal } from "../dynamodb/launcher.js";

const ROOT = path.resolve(__dirname, "..", "..");

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function pollUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return condition();
}

describe("DynamoDB Local launcher", () => {
  it("starts DynamoDB Local on a free port and stops it", async () => {
    const instance = await startDynamoDbLocal();
    try {
      const response = await fetch(instance.endpoint, {
        method: "POST",
        headers: {
          "content-type": "application/x-amz-json-1.0",
          "x-amz-target": "DynamoDB_20120810.ListTables",
          authorization:
            "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
        },
        body: "{}",
      });
      expect(await response.json()).toEqual({ TableNames: [] });
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
