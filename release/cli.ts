/**
 * `npm run release -- --target <stack>|local [--bundle <file>] [--json <report>]`: releases the
 * newest published version to the stack's regions, wave by wave (the stack's releaseWaves),
 * canary first, and rolls every touched region back when one fails (docs/RELEASING.md).
 * Exit 0: promoted. 1: rolled back. 2: a usage error; nothing was released. 3: the tool failed.
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { type ReleaseEvent, type ReleaseReport, schema } from "../shared/release-report.js";
import { loadStack } from "../shared/stack-file.js";
import { awsClients, awsDriver } from "./aws.js";
import { release } from "./run.js";

/** 3 is the tool itself failing: regions may be left mid-release (docs/RELEASING.md#roll-back-by-hand). */
export const EXIT = { promoted: 0, rolledBack: 1, usage: 2, crashed: 3 } as const;

const USAGE =
  "usage: npm run release -- --target <stack>|local [--bundle <file>] [--json <report>] [--bake-minutes <n>] [--poll-seconds <n>]";

export class UsageError extends Error {}

export interface ReleaseCommand {
  stack: string;
  jsonFile: string | undefined;
  bakeMs: number;
  pollMs: number;
}

function positiveNumber(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0)
    throw new UsageError(`--${flag} must be a number of at least 0, not "${text}"`);
  return value;
}

/** The command line, checked; a UsageError says what is wrong in words. */
export function parseCommand(args: string[]): ReleaseCommand {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(args);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { target, bundle, json } = parsed.values;
  if (target === undefined) throw new UsageError("--target is required: a stack name (prod, staging) or local");
  if (target === "local") {
    throw new UsageError(
      "--target local: not yet available: arrives with the local release (issue 14 items 2-3); release a stack for now",
    );
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
    bakeMs: positiveNumber("bake-minutes", parsed.values["bake-minutes"]) * 60_000,
    pollMs: positiveNumber("poll-seconds", parsed.values["poll-seconds"]) * 1000,
  };
}

function parseFlags(args: string[]) {
  return parseArgs({
    args,
    options: {
      target: { type: "string" },
      bundle: { type: "string" },
      json: { type: "string" },
      "bake-minutes": { type: "string", default: "5" },
      "poll-seconds": { type: "string", default: "15" },
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
  let command: ReleaseCommand;
  try {
    command = parseCommand(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n${USAGE}`);
    return EXIT.usage;
  }
  const { config } = loadStack(command.stack);
  const report = await release({
    target: command.stack,
    waves: config.releaseWaves,
    driver: awsDriver({ stack: command.stack, clients: awsClients(), pollMs: command.pollMs }),
    bakeMs: command.bakeMs,
    pollMs: command.pollMs,
    onEvent: (event) => console.log(timelineLine(event)),
  });
  for (const line of summary(report)) console.log(line);
  if (command.jsonFile !== undefined)
    writeFileSync(command.jsonFile, `${JSON.stringify(schema.parse(report), null, 2)}\n`);
  return report.outcome === "promoted" ? EXIT.promoted : EXIT.rolledBack;
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
