import { spawnSync } from "node:child_process";
import { ROOT } from "./cloud.js";

/** `npm run load -- <args>` as a user runs it (real artillery), waiting for it to exit. */
export function runLoad(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ["--import", "tsx", "local/load/cli.ts", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 120_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}
