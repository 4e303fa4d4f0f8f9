import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll } from "vitest";
import { ROOT } from "./cloud.js";

/** `npm run drill`'s command against the cloud in `stateDirectory`, as a user runs it. */
export function runDrillCli(stateDirectory: string, ...args: string[]) {
  const run = spawnSync(
    process.execPath,
    ["--import", "tsx", "local/drill/cli.ts", "--state-dir", stateDirectory, ...args],
    {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 120_000,
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
