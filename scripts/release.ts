/**
 * `npm run release -- --target <stack>|local [--bundle <file>] [--json <report>]`: releases the
 * newest published version to the stack's regions, wave by wave (the stack's releaseWaves),
 * canary first, and rolls every touched region back when one fails (docs/RELEASING.md). With
 * `--target local` it first publishes the bundle in every region of the running local cloud.
 * Exit 0: promoted. 1: rolled back. 2: a usage error; nothing was released. 3: the tool failed.
 */
import { existsSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { ControlError, readCloudState } from "../local/cloud/control-client.js";
import { LOCAL_RELEASE_DEFAULTS, LocalReleaseRefused, releaseLocal } from "../local/release/release.js";
import { awsClients, awsDriver } from "../release/aws.js";
import { release } from "../release/run.js";
import { HANDLER_BUNDLE, PROJECT_ROOT } from "../shared/paths.js";
import { type ReleaseEvent, type ReleaseReport, schema } from "../shared/release-report.js";
import { loadStack } from "../shared/stack-file.js";

/** 3 is the tool itself failing: regions may be left mid-release (docs/RELEASING.md#roll-back-by-hand). */
export const EXIT = { promoted: 0, rolledBack: 1, usage: 2, crashed: 3 } as const;

const USAGE = `usage: npm run release -- --target <stack>|local [--bundle <file>] [--json <report>] [--bake-minutes <n>] [--poll-seconds <n>]
       --target local only: [--bundle <file>] (default dist/functions/handler.js) [--canary-minutes <n>] [--state-dir <dir>] (default .local)`;

export class UsageError extends Error {}

export interface ReleaseCommand {
  stack: string;
  jsonFile: string | undefined;
  bakeMs: number;
  pollMs: number;
}

/** `--target local`: durations as written; the running cloud's time scale shrinks them. */
export interface LocalReleaseCommand {
  local: true;
  bundle: string;
  stateDirectory: string;
  jsonFile: string | undefined;
  canaryMinutes: number;
  bakeMinutes: number;
  pollSeconds: number;
}

function positiveNumber(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0)
    throw new UsageError(`--${flag} must be a number of at least 0, not "${text}"`);
  return value;
}

/** The command line, checked; a UsageError says what is wrong in words. */
export function parseCommand(args: string[]): ReleaseCommand | LocalReleaseCommand {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(args);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { target, bundle, json } = parsed.values;
  if (target === undefined) throw new UsageError("--target is required: a stack name (prod, staging) or local");
  if (target === "local") return parseLocal(parsed.values);
  for (const flag of ["canary-minutes", "state-dir"] as const) {
    if (parsed.values[flag] !== undefined) throw new UsageError(`--${flag} applies to --target local only`);
  }
  if (bundle !== undefined) {
    throw new UsageError(
      `--bundle applies to --target local only: on AWS, pulumi up publishes the code as a new version and the release moves ${target}'s live alias to it (docs/RELEASING.md)`,
    );
  }
  try {
    loadStack(target);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  return {
    stack: target,
    jsonFile: json,
    bakeMs: positiveNumber("bake-minutes", parsed.values["bake-minutes"] ?? "5") * 60_000,
    pollMs: positiveNumber("poll-seconds", parsed.values["poll-seconds"] ?? "15") * 1000,
  };
}

function parseLocal(values: ReturnType<typeof parseFlags>["values"]): LocalReleaseCommand {
  const bundle = path.resolve(values.bundle ?? HANDLER_BUNDLE);
  if (!existsSync(bundle) || !statSync(bundle).isFile()) {
    throw new UsageError(
      values.bundle === undefined
        ? `${bundle} is missing: npm run build makes it`
        : `--bundle ${values.bundle}: no such file (${bundle})`,
    );
  }
  const defaults = LOCAL_RELEASE_DEFAULTS;
  return {
    local: true,
    bundle,
    stateDirectory: path.resolve(values["state-dir"] ?? path.join(PROJECT_ROOT, ".local")),
    jsonFile: values.json,
    canaryMinutes: positiveNumber("canary-minutes", values["canary-minutes"] ?? String(defaults.canaryMinutes)),
    bakeMinutes: positiveNumber("bake-minutes", values["bake-minutes"] ?? String(defaults.bakeMinutes)),
    pollSeconds: positiveNumber("poll-seconds", values["poll-seconds"] ?? String(defaults.pollSeconds)),
  };
}

function parseFlags(args: string[]) {
  return parseArgs({
    args,
    options: {
      target: { type: "string" },
      bundle: { type: "string" },
      json: { type: "string" },
      "bake-minutes": { type: "string" },
      "poll-seconds": { type: "string" },
      "canary-minutes": { type: "string" },
      "state-dir": { type: "string" },
    },
    strict: true,
    allowPositionals: false,
  });
}

/** One timeline line: `+  12.0 s  wave 1  us-east-1   10%  candidate serving`. */
export function timelineLine(event: ReleaseEvent): string {
  const seconds = `+${(event.atMs / 1000).toFixed(1).padStart(7)} s`;
  const weight = event.weight === undefined ? "" : `${Math.round(event.weight * 100)}%`;
  return `${seconds}  wave ${event.wave}  ${(event.region ?? "").padEnd(15)} ${weight.padStart(4)}  ${event.event}`;
}

export function summary(report: ReleaseReport): string[] {
  return [
    `${report.target}: ${report.outcome}`,
    ...report.regions.map(
      (region) =>
        `  ${region.region.padEnd(15)} wave ${region.wave}  ${region.decision.padEnd(15)} serves ${region.finalVersion ?? "(unknown)"}${region.reason ? `  (${region.reason})` : ""}`,
    ),
    `  exposed to the candidate: ${report.exposedRegions.join(", ") || "none"}`,
  ];
}

async function main(): Promise<number> {
  let command: ReleaseCommand | LocalReleaseCommand;
  try {
    command = parseCommand(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n${USAGE}`);
    return EXIT.usage;
  }
  const report = "local" in command ? await runLocal(command) : await runStack(command);
  if (report === undefined) return EXIT.usage;
  for (const line of summary(report)) console.log(line);
  if (command.jsonFile !== undefined)
    writeFileSync(command.jsonFile, `${JSON.stringify(schema.parse(report), null, 2)}\n`);
  return report.outcome === "promoted" ? EXIT.promoted : EXIT.rolledBack;
}

/** The local release; undefined when it was refused before anything moved (a usage error, said on stderr). */
async function runLocal(command: LocalReleaseCommand): Promise<ReleaseReport | undefined> {
  try {
    const state = readCloudState(command.stateDirectory);
    console.log(`releasing ${path.relative(process.cwd(), command.bundle)} to the local cloud (stack ${state.stack})`);
    return await releaseLocal({
      state,
      bundle: command.bundle,
      timing: command,
      onEvent: (event) => console.log(timelineLine(event)),
      log: (line) => console.log(line),
    });
  } catch (error) {
    if (!(error instanceof ControlError || error instanceof LocalReleaseRefused)) throw error;
    console.error(`${error.message}\n${USAGE}`);
    return undefined;
  }
}

function runStack(command: ReleaseCommand): Promise<ReleaseReport> {
  const { config } = loadStack(command.stack);
  return release({
    target: command.stack,
    waves: config.releaseWaves,
    driver: awsDriver({ stack: command.stack, clients: awsClients(), pollMs: command.pollMs }),
    bakeMs: command.bakeMs,
    pollMs: command.pollMs,
    onEvent: (event) => console.log(timelineLine(event)),
  });
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(
        `npm run release failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      process.exit(EXIT.crashed);
    },
  );
}
