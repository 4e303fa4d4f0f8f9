/**
 * `npm run bench:jvm`: DynamoDB Local with the local cloud's JVM flags (DYNAMODB_JVM_FLAGS: the
 * client compiler only, the serial collector) against the JVM's defaults, side by side in
 * alternating rounds: time to the first answer, and the wall time and the JVM's CPU time for the
 * same conditional writes and strongly consistent reads. Writes its section of docs/BENCHMARKS.md.
 */
import { readFileSync } from "node:fs";
import { GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { DYNAMODB_JVM_FLAGS, startDynamoDbLocal } from "../local/dynamodb/launcher.js";
import { ensureCalculationsTable, localDynamoDbClient } from "../local/dynamodb/tables.js";
import { measuredOn, writeSection } from "./report.js";
import { median } from "./stats.js";

const ROUNDS = 3;
const WORKERS = 4;
const PAIRS_PER_WORKER = 1000;
const TABLE_NAME = "calcburst-bench";
/** Linux's clock ticks per second for /proc/<pid>/stat (`getconf CLK_TCK` is 100 here). */
const CLOCK_TICKS = 100;

interface Run {
  readyMs: number;
  workMs: number;
  cpuMs: number;
}

function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

async function run(jvmFlags: readonly string[]): Promise<Run> {
  const started = performance.now();
  const database = await startDynamoDbLocal({ jvmFlags, log: () => undefined });
  const readyMs = performance.now() - started;
  try {
    await ensureCalculationsTable(database.endpoint, "us-east-1", TABLE_NAME);
    const client = localDynamoDbClient(database.endpoint, "us-east-1");
    const before = cpuMsOf(database.pid);
    const work = performance.now();
    await Promise.all(
      Array.from({ length: WORKERS }, async (_, worker) => {
        for (let index = 0; index < PAIRS_PER_WORKER; index++) {
          const id = { S: `${worker}-${index}` };
          await client.send(
            new PutItemCommand({
              TableName: TABLE_NAME,
              Item: { id, body: { S: "x".repeat(200) }, expiresAt: { N: "4102444800" } },
              ConditionExpression: "attribute_not_exists(id)",
            }),
          );
          await client.send(new GetItemCommand({ TableName: TABLE_NAME, Key: { id }, ConsistentRead: true }));
        }
      }),
    );
    return { readyMs, workMs: performance.now() - work, cpuMs: cpuMsOf(database.pid) - before };
  } finally {
    await database.stop();
  }
}

async function main(): Promise<void> {
  const variants = { defaults: [] as readonly string[], tuned: DYNAMODB_JVM_FLAGS };
  const runs: Record<keyof typeof variants, Run[]> = { defaults: [], tuned: [] };
  for (let round = 1; round <= ROUNDS; round++) {
    for (const name of round % 2 === 1 ? (["defaults", "tuned"] as const) : (["tuned", "defaults"] as const)) {
      const result = await run(variants[name]);
      runs[name].push(result);
      console.error(
        `round ${round}/${ROUNDS} ${name}: first answer ${result.readyMs.toFixed(0)} ms, ${WORKERS * PAIRS_PER_WORKER} writes + reads in ${result.workMs.toFixed(0)} ms, JVM CPU ${result.cpuMs.toFixed(0)} ms`,
      );
    }
  }
  const row = (label: string, pick: (one: Run) => number) => {
    const [defaults, tuned] = [median(runs.defaults.map(pick)), median(runs.tuned.map(pick))];
    return `| ${label} | ${defaults.toFixed(0)} | ${tuned.toFixed(0)} | ${(tuned / defaults).toFixed(2)} |`;
  };
  writeSection("jvm", [
    "## DynamoDB Local's JVM flags",
    "",
    measuredOn(),
    `Command: \`npm run bench:jvm\`. DynamoDB Local in memory, ${ROUNDS} alternating rounds per variant, medians. The work is ${WORKERS} clients each making ${PAIRS_PER_WORKER} conditional PutItems, each followed by a strongly consistent GetItem of the same item (${WORKERS * PAIRS_PER_WORKER * 2} requests). JVM CPU is user + system time from /proc over the work only.`,
    "",
    `| measure | JVM defaults | \`${DYNAMODB_JVM_FLAGS.join(" ")}\` | ratio |`,
    "|---|---|---|---|",
    row("first answer after start (ms)", (one) => one.readyMs),
    row("wall time of the work (ms)", (one) => one.workMs),
    row("JVM CPU time of the work (ms)", (one) => one.cpuMs),
    "",
    "Every DynamoDB Local the local cloud and the tests start uses the flags (local/dynamodb/launcher.ts). Sections of this file measured before 2026-12-02 ran DynamoDB Local with the JVM's defaults.",
  ]);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
