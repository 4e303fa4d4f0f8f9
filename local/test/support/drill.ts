import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll } from "vitest";
import { ROOT } from "./cloud.js";

/** How long one drill run may take before the test stops it. */
export const DRILL_TIMEOUT_MS = 240_000;

/** `npm run drill`'s command against the cloud in `stateDirectory`, as a user runs it. */
export function runDrillCli(stateDirectory: string, ...args: string[]) {
  const run = spawnSync(
    process.execPath,
    ["--import", "tsx", "local/drill/cli.ts", "--state-dir", stateDirectory, ...args],
    {
      cwd: ROOT,
      encoding: "utf8",
      // A drill is bounded (steady state, outage, return, read-back each have a deadline), but on
      // a loaded machine the sum passed 120 s and the drill was cut off with no verdict at all.
      timeout: DRILL_TIMEOUT_MS,
    },
  );
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** A folder for a file's drill reports and timelines, removed after its tests. */
export function useDrillOutput(): string {
  const output = mkdtempSync(path.join(tmpdir(), "calcburst-drills-"));
  afterAll(() => rmSync(output, { recursive: true, force: true }));
  return output;
}
