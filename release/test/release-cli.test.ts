import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../shared/paths.js";

/** The real command, as `npm run release --` runs it. */
function releaseCommand(...args: string[]) {
  const run = spawnSync(process.execPath, ["--import", "tsx", path.join("scripts", "release.ts"), ...args], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: run.status, stderr: run.stderr };
}

describe("npm run release", () => {
  it.each([
    [[], "--target is required"],
    [["--target", "local", "--state-dir", "/nonexistent/calcburst"], "the local cloud is not running"],
    [["--target", "local", "--bundle", "/nonexistent/handler.js"], "--bundle /nonexistent/handler.js: no such file"],
    [["--target", "local", "--canary-minutes", "soon"], '--canary-minutes must be a number of at least 0, not "soon"'],
    [["--target", "prod", "--canary-minutes", "2"], "--canary-minutes applies to --target local only"],
    [["--target", "prod", "--bundle", "dist/functions/handler.js"], "--bundle applies to --target local only"],
    [["--target", "nosuch"], "no stack file Pulumi.nosuch.yaml"],
    [["--target", "prod", "--bake-minutes", "soon"], '--bake-minutes must be a number of at least 0, not "soon"'],
    [["--target", "prod", "--canary", "50"], "Unknown option '--canary'"],
  ])("refuses %j with exit 2 and says why", (args, message) => {
    const { status, stderr } = releaseCommand(...args);

    expect(status).toBe(2);
    expect(stderr).toContain(message);
    expect(stderr).toContain("usage: npm run release -- --target <stack>|local");
  });
});
