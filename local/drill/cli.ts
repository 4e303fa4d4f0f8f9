/**
 * npm run drill -- --region <r> --mode api|data|health|isolate|crash [--target local|aws] [--stack prod]
 *                  [--duration <s>] [--json <file>] [--svg <file>] [--state-dir <dir>]
 * npm run drill -- --mode conflict [--pairs <n>] [--target local|aws] …
 * npm run drill -- --mode bad-release [--state-dir <dir>] (local only)
 * Runs a failover drill (or the conflict drill), prints the report, writes the JSON report and
 * the SVG timeline, and exits 1 when the RTO is over budget, an acknowledged write is lost or
 * the regions diverge (2 for a usage error).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { DRILL_MODES, type DrillMode, type DrillReport } from "../../shared/drill-report.js";
import { PROJECT_ROOT } from "../../shared/paths.js";
import { loadStack } from "../../shared/stack-file.js";
import { ControlError } from "../cloud/control-client.js";
import { quietSdkNodeWarning } from "../sdk-warning.js";
import { AWS_MODE_ACTIONS, awsTarget, LOCAL_ONLY_MODES } from "./aws-target.js";
import { runBadReleaseDrill } from "./bad-release.js";
import { runConflictDrill } from "./conflict.js";
import { localTarget } from "./local-target.js";
import { renderTable, renderTimeline } from "./report.js";
import { runDrill } from "./run.js";

const USAGE = `usage: npm run drill -- --region <region> --mode ${DRILL_MODES.filter((mode) => mode !== "conflict").join("|")} [--target local|aws] [--stack prod]
                      [--duration <seconds the fault stays>] [--json <report.json>] [--svg <timeline.svg>] [--state-dir .local]
       npm run drill -- --mode conflict [--pairs <racing pairs per pairing, default 20>] [--target local|aws] [--stack prod] [...]
       npm run drill -- --mode bad-release [--json <report.json>] [--svg <timeline.svg>] [--state-dir .local]   (local cloud only)`;

class UsageError extends Error {}

const BAD_RELEASE_ON_AWS =
  "--mode bad-release runs against the local cloud only: on AWS it would have to publish a faulty version into a real stack and let CodeDeploy roll it back, which needs a stack set aside for it (docs/RELEASING.md)";

async function main(): Promise<void> {
  quietSdkNodeWarning();
  const { values: flags } = parseArgs({
    options: {
      region: { type: "string" },
      mode: { type: "string" },
      target: { type: "string", default: "local" },
      stack: { type: "string", default: "prod" },
      duration: { type: "string" },
      pairs: { type: "string", default: "20" },
      json: { type: "string" },
      svg: { type: "string" },
      "state-dir": { type: "string", default: path.join(PROJECT_ROOT, ".local") },
      help: { type: "boolean", default: false },
    },
  });
  if (flags.help) return console.log(USAGE);
  const mode = flags.mode as DrillMode;
  if (!DRILL_MODES.includes(mode)) throw new UsageError(`--mode must be one of ${DRILL_MODES.join(", ")}\n${USAGE}`);
  if (mode === "bad-release" && flags.target !== "local") throw new UsageError(BAD_RELEASE_ON_AWS);
  if (mode !== "conflict" && mode !== "bad-release" && flags.region === undefined)
    throw new UsageError(`--region is required\n${USAGE}`);
  if (flags.target !== "local" && flags.target !== "aws") throw new UsageError(`--target must be local or aws`);
  if (flags.target === "aws" && mode !== "conflict" && mode !== "bad-release" && LOCAL_ONLY_MODES.includes(mode))
    throw new UsageError(`on AWS, --mode ${mode} ${AWS_MODE_ACTIONS[mode]}`);
  const outageSeconds = flags.duration === undefined ? undefined : Number(flags.duration);
  if (outageSeconds !== undefined && !(outageSeconds > 0))
    throw new UsageError(`--duration must be a positive number of seconds`);
  const pairs = Number(flags.pairs);
  if (!Number.isInteger(pairs) || pairs < 1 || pairs > 1000)
    throw new UsageError("--pairs must be a whole number from 1 to 1000");
  const { config } = loadStack(flags.stack);
  if (flags.region !== undefined && !config.regions.includes(flags.region)) {
    throw new UsageError(`${flags.region} is not a region of stack ${flags.stack} (${config.regions.join(", ")})`);
  }
  const target =
    flags.target === "aws" ? awsTarget(config, flags.stack) : localTarget(config, path.resolve(flags["state-dir"]));
  const progress = (line: string) => console.log(line);
  const strongConsistency = config.tableConsistency === "MRSC";

  const report: DrillReport =
    mode === "bad-release"
      ? await runBadReleaseDrill(target, {
          stack: flags.stack,
          config,
          stateDirectory: path.resolve(flags["state-dir"]),
          progress,
        })
      : mode === "conflict"
        ? await runConflictDrill(target, { stack: flags.stack, pairsPerPairing: pairs, strongConsistency, progress })
        : await runDrill(target, {
            stack: flags.stack,
            strongConsistency,
            region: flags.region ?? "",
            mode,
            ...(outageSeconds !== undefined && { outageMs: outageSeconds * 1000 }),
            progress,
          });
  const date = report.times.startedAt.slice(0, 10);
  // Run outputs go under .local/ (git ignores it); docs/drills/ holds only what bench:drill writes.
  const svg = path.resolve(
    flags.svg ?? path.join(PROJECT_ROOT, ".local", "drills", `${date}-${mode}-${flags.region ?? "all"}.svg`),
  );
  report.timeline = path.relative(process.cwd(), svg) || svg;
  mkdirSync(path.dirname(svg), { recursive: true });
  writeFileSync(svg, renderTimeline(report));
  const json = path.resolve(
    flags.json ?? path.join(PROJECT_ROOT, ".local", "drills", `${date}-${mode}-${flags.region ?? "all"}.json`),
  );
  mkdirSync(path.dirname(json), { recursive: true });
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\n${renderTable(report)}\n  report: ${path.relative(process.cwd(), json) || json}`);
  process.exitCode = report.passed ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(error instanceof UsageError || error instanceof ControlError ? 2 : 1);
});
