import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { isRunning } from "./support/processes.js";

const ROOT = path.resolve(__dirname, "..", "..");

describe("npm start demo", () => {
  it("serves the demo calculations over real HTTP and stops DynamoDB Local when it exits", () => {
    const run = spawnSync(
      process.execPath,
      [path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"), "local/demo.ts", "--exit-after-demo", "--port", "0"],
      {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/POST \/v1\/calculations\s+201 {2}result 0\.3 /);
    expect(run.stdout).toMatch(/POST \/v1\/calculations\s+200 {2}result 2\.138089935299395077/);
    expect(run.stdout).toMatch(/422 {2}Division by zero/);
    expect(run.stdout).toMatch(/GET {2}\/health\s+200 {2}status pass/);
    expect(run.stderr).not.toContain("NodeVersionSupportWarning");
    const pid = Number(/\(pid (\d+)\)/.exec(run.stdout)?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(isRunning(pid)).toBe(false);
  });
});
