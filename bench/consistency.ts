/**
 * `npm run bench:consistency`: the MREC / MRSC trade-off on the local cloud. For the three-region
 * MREC stack (global3) and the MRSC stack (strong), each at the drills' time scale: write latency
 * through one region, writes a region cut off from the others still takes, the isolate and crash
 * drills (RPO exposure, lost writes) and the conflict drill (cross-region acknowledgements
 * superseded). Writes the comparison into docs/CONSISTENCY.md.
 */
import { rmSync } from "node:fs";
import path from "node:path";
import { readCloudState } from "../local/cloud/control-client.js";
import { spawnLocalCloud } from "../local/cloud/spawn.js";
import { runConflictDrill } from "../local/drill/conflict.js";
import { localTarget } from "../local/drill/local-target.js";
import { runDrill } from "../local/drill/run.js";
import { PROJECT_ROOT } from "../shared/paths.js";
import { loadStack } from "../shared/stack-file.js";
import { measuredOn, writeSection } from "./report.js";
import { quantile } from "./stats.js";

const TIME_SCALE = 0.05;
const LATENCY_WRITES = 60;
const ISOLATED_WRITES = 10;
/** A cloud of three regions starts in well under a minute on an idle machine; a shared one takes longer. */
const READY_TIMEOUT_MS = 600_000;
const CONFLICT_PAIRS = 10;
const STACKS = ["global3", "strong"] as const;

interface Figures {
  stack: string;
  consistency: string;
  p50Ms: number;
  p99Ms: number;
  isolatedAccepted: number;
  majorityAccepted: number;
  isolate: DrillFigures | Unfinished;
  crash: DrillFigures | Unfinished;
  conflict: ConflictFigures | Unfinished;
}

interface DrillFigures {
  rpoExposure: number;
  lost: number;
  passed: boolean;
  failures: string[];
}

interface ConflictFigures {
  crossBoth: number;
  crossSuperseded: number;
  crossPairs: number;
  sameRegionLost: number;
  passed: boolean;
  failures: string[];
}

/** A drill that did not finish (on a shared machine a restore can outlast the control call): why. */
interface Unfinished {
  unfinished: string;
}

/** Runs a drill; its failure to finish is a figure of its own, not the end of the benchmark. */
async function attempt<T>(what: string, run: () => Promise<T>): Promise<T | Unfinished> {
  try {
    return await run();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    console.error(`${what} did not finish: ${reason}`);
    return { unfinished: reason.split("\n")[0] ?? reason };
  }
}

function or<T extends object>(figures: T | Unfinished, show: (finished: T) => string): string {
  return "unfinished" in figures ? `did not finish (${figures.unfinished})` : show(figures);
}

async function post(apiUrl: string, id: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const response = await fetch(`${apiUrl}/v1/calculations`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ operation: "add", operands: ["1", "2"], id }),
    signal: AbortSignal.timeout(30_000),
  }).catch(() => undefined);
  await response?.body?.cancel();
  return { status: response?.status ?? 0, ms: performance.now() - started };
}

async function measure(stack: (typeof STACKS)[number]): Promise<Figures> {
  const { config } = loadStack(stack);
  const [first = "", , last = ""] = config.regions;
  console.error(`${stack}: starting the local cloud (time scale ${TIME_SCALE}) ...`);
  const cloud = await spawnLocalCloud({ timeScale: TIME_SCALE, stack, readyTimeoutMs: READY_TIMEOUT_MS });
  try {
    const state = readCloudState(cloud.stateDirectory);
    const api = (region: string) => state.regions[region]?.api.url ?? "";
    console.error(`${stack}: ${LATENCY_WRITES} writes one after another in ${first} ...`);
    const latencies: number[] = [];
    for (let index = 0; index < LATENCY_WRITES; index++) {
      const { status, ms } = await post(api(first), `latency-${stack}-${index}`);
      if (status === 201) latencies.push(ms);
    }
    latencies.sort((a, b) => a - b);
    const target = localTarget(config, cloud.stateDirectory);
    console.error(`${stack}: ${last} cut off; ${ISOLATED_WRITES} writes there and in ${first} ...`);
    await target.inject(last, "isolate");
    let isolatedAccepted = 0;
    let majorityAccepted = 0;
    for (let index = 0; index < ISOLATED_WRITES; index++) {
      if ((await post(api(last), `cut-off-${stack}-${index}`)).status === 201) isolatedAccepted++;
      if ((await post(api(first), `majority-${stack}-${index}`)).status === 201) majorityAccepted++;
    }
    await target.restore(last, "isolate");
    const strongConsistency = config.tableConsistency === "MRSC";
    const drill = (mode: "isolate" | "crash") =>
      attempt(`${stack}: drill ${mode}`, async (): Promise<DrillFigures> => {
        console.error(`${stack}: drill ${mode} on ${last} ...`);
        const report = await runDrill(target, { stack, region: last, mode, strongConsistency });
        return {
          rpoExposure: report.measured.rpoExposure,
          lost: report.measured.lostAcknowledgedWrites,
          passed: report.passed,
          failures: report.failures,
        };
      });
    const isolate = await drill("isolate");
    const crash = await drill("crash");
    const conflict = await attempt(`${stack}: conflict drill`, async (): Promise<ConflictFigures> => {
      console.error(`${stack}: conflict drill, ${CONFLICT_PAIRS} pairs per pairing ...`);
      const report = await runConflictDrill(target, { stack, pairsPerPairing: CONFLICT_PAIRS, strongConsistency });
      return {
        crossBoth: report.measured.crossRegionBothAcknowledged,
        crossSuperseded: report.measured.crossRegionAcknowledgedSuperseded,
        crossPairs: report.pairings
          .filter((pairing) => pairing.scope === "cross-region")
          .reduce((sum, pairing) => sum + pairing.pairs, 0),
        sameRegionLost: report.measured.sameRegionAcknowledgedLost,
        passed: report.passed,
        failures: report.failures,
      };
    });
    return {
      stack,
      consistency: config.tableConsistency,
      p50Ms: quantile(latencies, 0.5),
      p99Ms: quantile(latencies, 0.99),
      isolatedAccepted,
      majorityAccepted,
      isolate,
      crash,
      conflict,
    };
  } finally {
    cloud.child.kill("SIGTERM");
    await new Promise((resolve) => cloud.child.once("exit", resolve));
    rmSync(cloud.stateDirectory, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const figures: Figures[] = [];
  for (const stack of STACKS) figures.push(await measure(stack));
  const row = (label: string, value: (one: Figures) => string) => `| ${label} | ${figures.map(value).join(" | ")} |`;
  writeSection(
    "consistency",
    [
      measuredOn(),
      `Command: \`npm run bench:consistency\` (each stack's local cloud at time scale ${TIME_SCALE}; the drills as \`npm run drill -- --stack <stack>\` runs them, on the stack's third region; the conflict drill with ${CONFLICT_PAIRS} pairs per pairing). Local figures measure this machine and the local emulation, not AWS.`,
      "",
      `| | ${figures.map((one) => `${one.stack} (${one.consistency})`).join(" | ")} |`,
      `|---|${figures.map(() => "---").join("|")}|`,
      row(
        `write latency p50 / p99, ${LATENCY_WRITES} writes in a row, ms`,
        (one) => `${one.p50Ms.toFixed(1)} / ${one.p99Ms.toFixed(1)}`,
      ),
      row(
        `writes accepted while the third region is cut off: in it / in the first region, of ${ISOLATED_WRITES}`,
        (one) => `${one.isolatedAccepted} / ${one.majorityAccepted}`,
      ),
      row("isolate drill: RPO exposure / lost acknowledged writes", (one) =>
        or(one.isolate, (figures) => `${figures.rpoExposure} / ${figures.lost}`),
      ),
      row("crash drill: RPO exposure / lost acknowledged writes", (one) =>
        or(one.crash, (figures) => `${figures.rpoExposure} / ${figures.lost}`),
      ),
      row("conflict drill: cross-region pairs both acknowledged / superseded, of pairs", (one) =>
        or(one.conflict, (figures) => `${figures.crossBoth} / ${figures.crossSuperseded} of ${figures.crossPairs}`),
      ),
      row("conflict drill: same-region acknowledged writes lost", (one) =>
        or(one.conflict, (figures) => String(figures.sameRegionLost)),
      ),
      row("drill verdicts (isolate, crash, conflict)", (one) =>
        [one.isolate, one.crash, one.conflict]
          .map((figures) =>
            or(figures, (finished) => (finished.passed ? "pass" : `**fail** (${finished.failures.join("; ")})`)),
          )
          .join(", "),
      ),
    ],
    path.join(PROJECT_ROOT, "docs", "CONSISTENCY.md"),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
