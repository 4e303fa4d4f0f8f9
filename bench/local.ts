/**
 * `npm run bench:local`: the local cloud end to end. The same write mix at a fixed concurrency
 * goes (1) through the router, (2) straight to one region's API, (3) straight to that region's
 * DynamoDB Local as the conditional PutItem the handler makes: the ceiling this machine allows.
 * Rounds are interleaved so drift on a noisy machine hits all three alike. Then the replication
 * lag the replicator measured over the whole run.
 */
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { PutItemCommand } from "@aws-sdk/client-dynamodb";
import { TABLE_NAME } from "../local/cloud/cloud.js";
import { spawnLocalCloud } from "../local/cloud/spawn.js";
import { localDynamoDbClient } from "../local/dynamodb/tables.js";
import type { PairStatus, ReplicationStatus } from "../local/replicator/replicator.js";
import { expiresAtFor } from "../shared/table.js";
import { measuredOn, verdict, writeSection } from "./report.js";
import { quantile } from "./stats.js";

/** Closed-loop clients: a light load (latency-bound) and one that saturates the two cores. */
const CONCURRENCIES = [4, 16];
const ROUND_MS = 8000;
const STEADY_RATE_PER_SECOND = 100;
const ROUNDS = 3;
const WARM_UP_MS = 2000;
const SOURCE_REGION = "us-east-1";
const TARGETS = { routerOverhead: 1.1, shareOfCeiling: 0.8, lagP99Ms: 250 };

const OPERATIONS = [
  { operation: "add", operands: ["0.1", "0.2", "12.5"] },
  { operation: "multiply", operands: ["1.5", "4", "-2.25"] },
  { operation: "mean", operands: ["1", "2", "3.5", "8"] },
  { operation: "divide", operands: ["1", "3"] },
  { operation: "stddev", operands: ["2", "4", "4", "4", "5", "5", "7", "9"] },
];

interface RoundResult {
  requests: number;
  errors: number;
  seconds: number;
  latenciesMs: number[];
}

type Send = (index: number) => Promise<boolean>;

/** `concurrency` closed-loop workers for `durationMs`. */
async function drive(send: Send, durationMs: number, concurrency: number): Promise<RoundResult> {
  const latenciesMs: number[] = [];
  let errors = 0;
  let counter = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const sent = performance.now();
        const ok = await send(counter++).catch(() => false);
        latenciesMs.push(performance.now() - sent);
        if (!ok) errors += 1;
      }
    }),
  );
  return { requests: latenciesMs.length, errors, seconds: (performance.now() - started) / 1000, latenciesMs };
}

function httpSender(baseUrl: string, headers: Record<string, string>): Send {
  const agent = new Agent({ keepAlive: true, maxSockets: Math.max(...CONCURRENCIES) });
  return (index) =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify(OPERATIONS[index % OPERATIONS.length]);
      const call = httpRequest(
        `${baseUrl}/v1/calculations`,
        { method: "POST", agent, headers: { "content-type": "application/json", ...headers } },
        (response) => {
          response.resume();
          response.on("end", () => resolve(response.statusCode === 201));
        },
      );
      call.on("error", reject);
      call.end(body);
    });
}

function dynamoDbSender(endpoint: string): Send {
  const client = localDynamoDbClient(endpoint, SOURCE_REGION);
  return async (index) => {
    const spec = OPERATIONS[index % OPERATIONS.length] ?? OPERATIONS[0];
    const now = Date.now();
    // The item and condition the handler writes (functions/store.ts).
    await client.send(
      new PutItemCommand({
        TableName: TABLE_NAME,
        Item: {
          id: { S: randomUUID() },
          operation: { S: spec?.operation ?? "add" },
          operands: { L: (spec?.operands ?? []).map((operand) => ({ N: operand })) },
          result: { N: "1" },
          region: { S: SOURCE_REGION },
          createdAt: { S: new Date(now).toISOString() },
          expiresAt: { N: String(expiresAtFor(now)) },
          requestHash: { S: "0".repeat(64) },
        },
        ConditionExpression: "attribute_not_exists(id) OR expiresAt < :now",
        ExpressionAttributeValues: { ":now": { N: String(Math.floor(now / 1000)) } },
      }),
    );
    return true;
  };
}

interface Summary {
  name: string;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  requests: number;
}

function summarise(name: string, rounds: RoundResult[]): Summary {
  const latencies = rounds.flatMap((round) => round.latenciesMs).sort((a, b) => a - b);
  const requests = rounds.reduce((sum, round) => sum + round.requests, 0);
  const seconds = rounds.reduce((sum, round) => sum + round.seconds, 0);
  return {
    name,
    rps: requests / seconds,
    p50: quantile(latencies, 0.5),
    p95: quantile(latencies, 0.95),
    p99: quantile(latencies, 0.99),
    errors: rounds.reduce((sum, round) => sum + round.errors, 0),
    requests,
  };
}

async function main(): Promise<void> {
  console.error("starting the local cloud (prod stack, time scale 1) ...");
  const cloud = await spawnLocalCloud();
  const { child, stateDirectory } = cloud;
  const state = cloud.state();
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
    }
    rmSync(stateDirectory, { recursive: true, force: true });
  };
  process.once("SIGINT", () => void stop().then(() => process.exit(130)));
  try {
    const region = state.regions[SOURCE_REGION];
    if (region === undefined) throw new Error(`the prod stack has no ${SOURCE_REGION}`);
    const targets: { name: string; send: Send }[] = [
      { name: "through the router", send: httpSender(state.router.url, { "x-client-location": "us" }) },
      { name: `straight to the ${SOURCE_REGION} API`, send: httpSender(region.api.url, {}) },
      { name: `straight to ${SOURCE_REGION} DynamoDB Local (PutItem)`, send: dynamoDbSender(region.dynamodb.endpoint) },
    ];
    const replicatorStatus = async () =>
      ((await (await fetch(`${state.replicator.url}/status`)).json()) as ReplicationStatus).pairs;
    // A round starts only once the replicator has caught up, so no round pays for the last one's backlog.
    const drained = async () => {
      let last = -1;
      for (;;) {
        const pairs = await replicatorStatus();
        const total = pairs.reduce((sum, pair) => sum + Object.values(pair.records).reduce((a, b) => a + b, 0), 0);
        if (total === last) return;
        last = total;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    };
    console.error(`warming up each target for ${WARM_UP_MS} ms ...`);
    for (const target of targets) await drive(target.send, WARM_UP_MS, 4);

    const byConcurrency = new Map<number, Summary[]>();
    for (const concurrency of CONCURRENCIES) {
      const results = new Map<string, RoundResult[]>(targets.map((target) => [target.name, []]));
      for (let round = 1; round <= ROUNDS; round += 1) {
        // Alternate the order (ABC, CBA) so drift over the run hits every target alike.
        const order = round % 2 === 1 ? targets : [...targets].reverse();
        for (const target of order) {
          await drained();
          console.error(`${concurrency} concurrent, round ${round}/${ROUNDS}: ${target.name}, ${ROUND_MS} ms ...`);
          results.get(target.name)?.push(await drive(target.send, ROUND_MS, concurrency));
        }
      }
      byConcurrency.set(
        concurrency,
        targets.map((target) => summarise(target.name, results.get(target.name) ?? [])),
      );
    }

    const lagOf = async () => (await replicatorStatus()).find((pair) => pair.source === SOURCE_REGION)?.lag;
    const router = targets[0] as { send: Send };
    await drained();
    await fetch(`${state.replicator.url}/status/lag`, { method: "DELETE" });
    console.error(
      `replication lag at a steady ${STEADY_RATE_PER_SECOND} writes/s through the router, ${ROUND_MS} ms ...`,
    );
    const sends: Promise<unknown>[] = [];
    for (let index = 0; index < (STEADY_RATE_PER_SECOND * ROUND_MS) / 1000; index += 1) {
      sends.push(router.send(index).catch(() => false));
      await new Promise((resolve) => setTimeout(resolve, 1000 / STEADY_RATE_PER_SECOND));
    }
    await Promise.all(sends);
    await drained();
    const steadyLag = await lagOf();
    await fetch(`${state.replicator.url}/status/lag`, { method: "DELETE" });
    const saturating = Math.max(...CONCURRENCIES);
    console.error(`replication lag with ${saturating} concurrent clients through the router, ${ROUND_MS} ms ...`);
    const saturated = await drive(router.send, ROUND_MS, saturating);
    await drained();
    const saturatedLag = await lagOf();

    const row = (concurrency: number, s: Summary) =>
      `| ${concurrency} | ${s.name} | ${s.rps.toFixed(0)} | ${s.p50.toFixed(1)} | ${s.p95.toFixed(1)} | ${s.p99.toFixed(1)} | ${s.errors} of ${s.requests} |`;
    const verdictRows = CONCURRENCIES.flatMap((concurrency) => {
      const [viaRouter, direct, ceiling] = byConcurrency.get(concurrency) ?? [];
      if (viaRouter === undefined || direct === undefined || ceiling === undefined) return [];
      const overhead = direct.rps / viaRouter.rps;
      const share = viaRouter.rps / ceiling.rps;
      return [
        `| router overhead at ${concurrency} concurrent (direct req/s ÷ router req/s) | ${overhead.toFixed(2)}× (p50 ${viaRouter.p50.toFixed(1)} vs ${direct.p50.toFixed(1)} ms) | ≤ ${TARGETS.routerOverhead}× | ${verdict(overhead <= TARGETS.routerOverhead)} |`,
        `| end to end as a share of the DynamoDB Local ceiling at ${concurrency} concurrent | ${(share * 100).toFixed(0)}% | ≥ ${TARGETS.shareOfCeiling * 100}% | ${verdict(share >= TARGETS.shareOfCeiling)} |`,
      ];
    });
    const lagRow = (label: string, lag: PairStatus["lag"] | undefined) =>
      `| replication lag ${SOURCE_REGION} → other region, ${label}: p50 / p99 over ${lag?.samples ?? 0} writes (ms) | ${lag?.p50Ms ?? "-"} / ${lag?.p99Ms ?? "-"} (max ${lag?.maxMs ?? "-"}) | p99 ≤ ${TARGETS.lagP99Ms} ms | ${verdict((lag?.p99Ms ?? Number.POSITIVE_INFINITY) <= TARGETS.lagP99Ms)} |`;
    writeSection("local", [
      "## Local cloud end to end",
      "",
      measuredOn(),
      `Command: \`npm run bench:local\`. Stack \`prod\` at time scale 1. Closed-loop clients at ${CONCURRENCIES.join(" and ")} concurrent; per concurrency ${ROUNDS} rounds of ${ROUND_MS / 1000} s per target, the order alternating, each round starting once the replicator has caught up. Every request is a new calculation (\`POST /v1/calculations\`, five operations in turn), so every one is a conditional PutItem, and every write is replicated to the other region while the benchmark runs.`,
      "",
      "| concurrent | target | req/s | p50 ms | p95 ms | p99 ms | errors |",
      "|---|---|---|---|---|---|---|",
      ...CONCURRENCIES.flatMap((concurrency) => (byConcurrency.get(concurrency) ?? []).map((s) => row(concurrency, s))),
      "",
      "| measure | value | target | verdict |",
      "|---|---|---|---|",
      ...verdictRows,
      lagRow(`at a steady ${STEADY_RATE_PER_SECOND} writes/s`, steadyLag),
      lagRow(
        `under ${saturating} concurrent clients (${(saturated.requests / saturated.seconds).toFixed(0)} writes/s)`,
        saturatedLag,
      ),
      "",
      "Everything shares the same two cores: the load generator, the router, two region APIs, two JVMs and the replicator. The lag is the age of each item (now − its `createdAt`, which the handler stamps just before its write) when the replicator applied it in the other region, so it includes the write itself, DynamoDB Local's stream delay and the replicator's 20 ms idle poll.",
    ]);
  } finally {
    await stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
