/**
 * `npm run bench:local`: the local cloud end to end, every round counted until its writes are
 * replicated. The same write mix at a fixed concurrency goes (1) through the router, (2) straight
 * to one region's API, (3) to that region's data endpoint as the PutItem the function makes, (4)
 * straight to its DynamoDB Local, stamped as the endpoint would: the ceiling. Before that, the same
 * saturating router round on fresh clouds with and without the data endpoints, in turn (what they cost);
 * the CPU each process spends per end-to-end write (/proc), the region process's CPU split by a
 * V8 profile, the batch route's two write strategies side by side, and the replication lag.
 * Rounds are interleaved so drift on a noisy machine hits every target alike.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { BatchWriteItemCommand, ConditionalCheckFailedException, PutItemCommand } from "@aws-sdk/client-dynamodb";
import type { CloudState } from "../local/cloud/cloud.js";
import { TABLE_NAME } from "../local/cloud/cloud.js";
import { type SpawnedCloud, spawnLocalCloud } from "../local/cloud/spawn.js";
import { ApplyClock } from "../local/data/stamps.js";
import { localDynamoDbClient } from "../local/dynamodb/tables.js";
import { STREAM_SETTLE_MS } from "../local/replicator/convergence.js";
import type { PairStatus, ReplicationStatus } from "../local/replicator/replicator.js";
import { HANDLER_BUNDLE } from "../shared/paths.js";
import { expiresAtFor, REPLICATION_STAMP } from "../shared/table.js";
import { measuredOn, verdict, writeSection } from "./report.js";
import { median, quantile } from "./stats.js";

/** Closed-loop clients: a light load (latency-bound) and one that saturates the two cores. */
const CONCURRENCIES = [4, 16];
const ROUND_MS = 8000;
const STEADY_RATE_PER_SECOND = 100;
const ROUNDS = 3;
const WARM_UP_MS = 2000;
const BATCHES = 30;
const SOURCE_REGION = "us-east-1";
const TARGET_REGION = "eu-west-1";
const TARGETS = { routerOverhead: 1.1, shareOfCeiling: 0.8, endpointCost: 0.1, lagP99Ms: 250 };
/** Fresh clouds with and without the data endpoints, in turn. */
const ENDPOINT_PAIRS = 3;
const ENDPOINT_WARM_UP_MS = 30_000;
const CLOCK_TICK_MS = 10;

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
  /** From the first request to the moment the round's last write was applied in the other region. */
  secondsToReplicated: number;
  latenciesMs: number[];
}

type Send = (index: number) => Promise<boolean>;

interface BenchCloud {
  name: string;
  spawned: SpawnedCloud;
  state: CloudState;
  stop(): Promise<void>;
}

/** Every cloud running, so a Ctrl-C or a kill of the benchmark stops them all. */
const clouds = new Set<BenchCloud>();

async function startCloud(name: string, options: Parameters<typeof spawnLocalCloud>[0]): Promise<BenchCloud> {
  console.error(`starting the ${name} cloud ...`);
  const spawned = await spawnLocalCloud(options);
  const cloud: BenchCloud = {
    name,
    spawned,
    state: spawned.state(),
    stop: async () => {
      if (spawned.child.exitCode === null) {
        spawned.child.kill("SIGTERM");
        await new Promise((resolve) => spawned.child.once("exit", resolve));
      }
      rmSync(spawned.stateDirectory, { recursive: true, force: true });
      clouds.delete(cloud);
    },
  };
  clouds.add(cloud);
  return cloud;
}

async function replication(cloud: BenchCloud): Promise<PairStatus> {
  const status = (await (await fetch(`${cloud.state.replicator.url}/status`)).json()) as ReplicationStatus;
  const pair = status.pairs.find((one) => one.source === SOURCE_REGION && one.target === TARGET_REGION);
  if (pair === undefined) throw new Error(`no ${SOURCE_REGION} → ${TARGET_REGION} pair`);
  return pair;
}

/** When the last write made before now was applied in the other region (epoch ms), once it has been. */
async function replicatedBy(cloud: BenchCloud): Promise<number> {
  const mark = new Date(Date.now() + STREAM_SETTLE_MS).toISOString();
  for (;;) {
    const pair = await replication(cloud);
    if (pair.caughtUpAt !== null && pair.caughtUpAt >= mark) return Date.parse(pair.lastAppliedAt ?? mark);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** `concurrency` closed-loop workers for `durationMs`, then the wait until replication has caught up. */
async function round(cloud: BenchCloud, send: Send, durationMs: number, concurrency: number): Promise<RoundResult> {
  await replicatedBy(cloud);
  const latenciesMs: number[] = [];
  let errors = 0;
  let counter = 0;
  const started = Date.now();
  const deadline = performance.now() + durationMs;
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
  const ended = Date.now();
  const replicated = Math.max(ended, await replicatedBy(cloud));
  return { requests: latenciesMs.length, errors, secondsToReplicated: (replicated - started) / 1000, latenciesMs };
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

/** The item and condition the handler writes (functions/store.ts), on the wire. */
function itemToWrite(index: number) {
  const spec = OPERATIONS[index % OPERATIONS.length] ?? { operation: "add", operands: ["1"] };
  const now = Date.now();
  return {
    item: {
      id: { S: randomUUID() },
      operation: { S: spec.operation },
      operands: { L: spec.operands.map((operand) => ({ N: operand })) },
      result: { N: "1" },
      region: { S: SOURCE_REGION },
      createdAt: { S: new Date(now).toISOString() },
      expiresAt: { N: String(expiresAtFor(now)) },
      requestHash: { S: "0".repeat(64) },
    },
    now,
  };
}

/**
 * The function's conditional PutItem, sent to `endpoint`. Straight to DynamoDB Local the benchmark
 * stamps the item itself, as the data endpoint would, so the replicator replicates it.
 */
function putItemSender(endpoint: string, stampHere: boolean): Send {
  const client = localDynamoDbClient(endpoint, SOURCE_REGION);
  const clock = new ApplyClock(SOURCE_REGION);
  return async (index) => {
    const { item, now } = itemToWrite(index);
    const stamp = clock.next();
    await client.send(
      new PutItemCommand({
        TableName: TABLE_NAME,
        Item: stampHere
          ? { ...item, [REPLICATION_STAMP.time]: { N: stamp.time }, [REPLICATION_STAMP.region]: { S: stamp.region } }
          : item,
        ConditionExpression: "attribute_not_exists(id) OR expiresAt <= :now",
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
  const latencies = rounds.flatMap((one) => one.latenciesMs).sort((a, b) => a - b);
  const requests = rounds.reduce((sum, one) => sum + one.requests, 0);
  const seconds = rounds.reduce((sum, one) => sum + one.secondsToReplicated, 0);
  return {
    name,
    rps: requests / seconds,
    p50: quantile(latencies, 0.5),
    p95: quantile(latencies, 0.95),
    p99: quantile(latencies, 0.99),
    errors: rounds.reduce((sum, one) => sum + one.errors, 0),
    requests,
  };
}

/** A process's CPU time so far (user + system), in ms, from /proc/<pid>/stat. */
function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MS;
  } catch {
    return Number.NaN;
  }
}

/** The cloud's processes, by what they stand for, and the benchmark's own (the load generator). */
function processesOf(state: CloudState): { name: string; pid: number }[] {
  const named: { name: string; pid: number | null }[] = [
    { name: "router (the supervisor: router, health checks, control)", pid: state.supervisor.pid },
  ];
  for (const [region, runtime] of Object.entries(state.regions)) {
    const role = region === SOURCE_REGION ? "" : " (replicated writes, health checks)";
    named.push(
      {
        name: `${region} API process (API Gateway + Lambda emulation, function, SDK, data endpoint)${role}`,
        pid: runtime.api.pid,
      },
      { name: `${region} DynamoDB Local (JVM)${role}`, pid: runtime.dynamodb.pid },
    );
  }
  named.push(
    { name: "replicator", pid: state.replicator.pid },
    { name: "load generator (this benchmark)", pid: process.pid },
  );
  return named.filter((one): one is { name: string; pid: number } => one.pid !== null);
}

/** CPU ms per request of each process over one round (from its start to replicated). */
async function cpuPerRequest(cloud: BenchCloud, send: Send, concurrency: number) {
  const processes = processesOf(cloud.state);
  const before = processes.map((one) => cpuMs(one.pid));
  const result = await round(cloud, send, ROUND_MS, concurrency);
  const after = processes.map((one) => cpuMs(one.pid));
  return {
    requests: result.requests,
    perProcess: processes.map((one, index) => ({
      name: one.name,
      msPerRequest: ((after[index] ?? 0) - (before[index] ?? 0)) / result.requests,
    })),
  };
}

interface ProfileNode {
  id: number;
  callFrame: { url: string; functionName: string };
  children?: number[];
}

/** Where a sample's time goes: the innermost frame the benchmark can name decides. */
function categoryOf(url: string, functionName: string): string | undefined {
  if (functionName === "(idle)") return "idle";
  if (url.includes("/node_modules/@aws-sdk/") || url.includes("/node_modules/@smithy/"))
    return "AWS SDK (marshalling, signing, HTTP client)";
  if (url.endsWith(HANDLER_BUNDLE) || url.includes("/dist/functions/"))
    return "function (validation, engine, logging, metrics)";
  if (url.includes("/local/region/")) return "API Gateway + Lambda emulation";
  if (url.includes("/local/data/")) return "data endpoint (stamping, hiding, forwarding)";
  return undefined;
}

/** Splits a V8 CPU profile's busy samples into the categories above (the rest is Node's own work). */
function splitProfile(file: string): Map<string, number> {
  const profile = JSON.parse(readFileSync(file, "utf8")) as { nodes: ProfileNode[]; samples: number[] };
  const parent = new Map<number, number>();
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const memo = new Map<number, string>();
  const categorise = (id: number): string => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id);
    const own = node === undefined ? undefined : categoryOf(node.callFrame.url, node.callFrame.functionName);
    const up = parent.get(id);
    const category = own ?? (up === undefined ? "Node runtime (HTTP parsing, event loop, GC)" : categorise(up));
    memo.set(id, category);
    return category;
  };
  const counts = new Map<string, number>();
  for (const sample of profile.samples) {
    const category = categorise(sample);
    if (category === "idle") continue;
    counts.set(category, (counts.get(category) ?? 0) + 1);
  }
  return counts;
}

/** 100 items written as the batch route once did (4 BatchWriteItem calls) and as it does now (conditional puts). */
async function batchStrategies(endpoint: string) {
  const client = localDynamoDbClient(endpoint, SOURCE_REGION);
  const items = () => Array.from({ length: 100 }, (_, index) => itemToWrite(index));
  const viaBatchWrite = async () => {
    const all = items();
    await Promise.all(
      [0, 25, 50, 75].map((start) =>
        client.send(
          new BatchWriteItemCommand({
            RequestItems: {
              [TABLE_NAME]: all.slice(start, start + 25).map(({ item }) => ({ PutRequest: { Item: item } })),
            },
          }),
        ),
      ),
    );
  };
  const viaConditionalPuts = async () => {
    const queue = items();
    const worker = async () => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        await client
          .send(
            new PutItemCommand({
              TableName: TABLE_NAME,
              Item: next.item,
              ConditionExpression: "attribute_not_exists(id) OR expiresAt <= :now",
              ExpressionAttributeValues: { ":now": { N: String(Math.floor(next.now / 1000)) } },
              ReturnValuesOnConditionCheckFailure: "ALL_OLD",
            }),
          )
          .catch((error: unknown) => {
            if (!(error instanceof ConditionalCheckFailedException)) throw error;
          });
      }
    };
    await Promise.all(Array.from({ length: 25 }, worker));
  };
  const timings = { batchWrite: [] as number[], conditional: [] as number[] };
  for (let index = 0; index < BATCHES; index++) {
    for (const [name, write] of index % 2 === 0
      ? ([
          ["batchWrite", viaBatchWrite],
          ["conditional", viaConditionalPuts],
        ] as const)
      : ([
          ["conditional", viaConditionalPuts],
          ["batchWrite", viaBatchWrite],
        ] as const)) {
      const started = performance.now();
      await write();
      timings[name].push(performance.now() - started);
    }
  }
  client.destroy();
  const describe = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return { p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95) };
  };
  return { batchWrite: describe(timings.batchWrite), conditional: describe(timings.conditional) };
}

async function batchRouteLatency(routerUrl: string) {
  const latencies: number[] = [];
  for (let index = 0; index < BATCHES; index++) {
    const items = Array.from({ length: 100 }, (_, item) => ({ operation: "add", operands: [index, item] }));
    const started = performance.now();
    const response = await fetch(`${routerUrl}/v1/calculations/batch`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-client-location": "us" },
      body: JSON.stringify({ items }),
    });
    const body = (await response.json()) as { succeeded?: number };
    if (body.succeeded !== 100) throw new Error(`a batch of 100 had ${body.succeeded} succeed`);
    latencies.push(performance.now() - started);
  }
  latencies.sort((a, b) => a - b);
  return { p50: quantile(latencies, 0.5), p95: quantile(latencies, 0.95) };
}

const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : "—");

async function main(): Promise<void> {
  const stopAll = async () => {
    for (const cloud of [...clouds]) await cloud.stop();
  };
  process.once("SIGINT", () => void stopAll().then(() => process.exit(130)));
  process.once("SIGTERM", () => void stopAll().then(() => process.exit(143)));
  try {
    // What the data endpoints cost: the same saturating router round on fresh clouds with and
    // without them, in turn, one cloud at a time (an idle one's pollers would take a share).
    const withAndWithout: { with: number; without: number }[] = [];
    for (let pair = 0; pair < ENDPOINT_PAIRS; pair++) {
      const order = pair % 2 === 0 ? [false, true] : [true, false];
      const rates: Partial<Record<"with" | "without", number>> = {};
      for (const bypassDataEndpoint of order) {
        const name = bypassDataEndpoint ? "functions bypassing the data endpoints" : "with the data endpoints";
        const cloud = await startCloud(`${name} (pair ${pair + 1}/${ENDPOINT_PAIRS})`, { bypassDataEndpoint });
        const send = httpSender(cloud.state.router.url, { "x-client-location": "us" });
        // A fresh JVM runs DynamoDB Local several times slower until its JIT has warmed up.
        await round(cloud, send, ENDPOINT_WARM_UP_MS, Math.max(...CONCURRENCIES));
        const result = await round(cloud, send, ROUND_MS, Math.max(...CONCURRENCIES));
        rates[bypassDataEndpoint ? "without" : "with"] = result.requests / result.secondsToReplicated;
        await cloud.stop();
      }
      withAndWithout.push({ with: rates.with ?? Number.NaN, without: rates.without ?? Number.NaN });
    }
    const endpointRatios = withAndWithout.map((pair) => pair.with / pair.without).sort((a, b) => a - b);
    const endpointCost = 1 - median(endpointRatios);

    const primary = await startCloud("benchmark (prod stack, time scale 1)", {});
    const region = primary.state.regions[SOURCE_REGION];
    if (region === undefined) throw new Error(`the prod stack has no ${SOURCE_REGION}`);
    const fromUs = { "x-client-location": "us" };
    const targets: { name: string; cloud: BenchCloud; send: Send }[] = [
      { name: "through the router", cloud: primary, send: httpSender(primary.state.router.url, fromUs) },
      { name: `straight to the ${SOURCE_REGION} API`, cloud: primary, send: httpSender(region.api.url, {}) },
      {
        name: `PutItem to the ${SOURCE_REGION} data endpoint`,
        cloud: primary,
        send: putItemSender(region.data.endpoint, false),
      },
      {
        name: `PutItem straight to ${SOURCE_REGION} DynamoDB Local (the ceiling)`,
        cloud: primary,
        send: putItemSender(region.dynamodb.endpoint, true),
      },
    ];
    console.error(`warming up each target for ${WARM_UP_MS} ms ...`);
    for (const target of targets) await round(target.cloud, target.send, WARM_UP_MS, 4);

    const byConcurrency = new Map<number, Summary[]>();
    for (const concurrency of CONCURRENCIES) {
      const results = new Map<string, RoundResult[]>(targets.map((target) => [target.name, []]));
      for (let index = 1; index <= ROUNDS; index += 1) {
        // Alternate the order so drift over the run hits every target alike.
        const order = index % 2 === 1 ? targets : [...targets].reverse();
        for (const target of order) {
          console.error(`${concurrency} concurrent, round ${index}/${ROUNDS}: ${target.name}, ${ROUND_MS} ms ...`);
          results.get(target.name)?.push(await round(target.cloud, target.send, ROUND_MS, concurrency));
        }
      }
      byConcurrency.set(
        concurrency,
        targets.map((target) => summarise(target.name, results.get(target.name) ?? [])),
      );
    }

    const saturating = Math.max(...CONCURRENCIES);
    console.error(`CPU per end-to-end write, ${saturating} concurrent, from /proc ...`);
    const cpu = await cpuPerRequest(primary, targets[0]?.send as Send, saturating);
    const cpuCeiling = await cpuPerRequest(primary, targets[3]?.send as Send, saturating);

    console.error("batch of 100: four BatchWriteItem calls against 100 conditional puts, side by side ...");
    const strategies = await batchStrategies(region.dynamodb.endpoint);
    const batchRoute = await batchRouteLatency(primary.state.router.url);

    console.error(`replication lag at a steady ${STEADY_RATE_PER_SECOND} writes/s through the router ...`);
    await replicatedBy(primary);
    await fetch(`${primary.state.replicator.url}/status/lag`, { method: "DELETE" });
    const router = targets[0] as { send: Send };
    const sends: Promise<unknown>[] = [];
    for (let index = 0; index < (STEADY_RATE_PER_SECOND * ROUND_MS) / 1000; index += 1) {
      sends.push(router.send(index).catch(() => false));
      await new Promise((resolve) => setTimeout(resolve, 1000 / STEADY_RATE_PER_SECOND));
    }
    await Promise.all(sends);
    await replicatedBy(primary);
    const steadyLag = (await replication(primary)).lag;
    await fetch(`${primary.state.replicator.url}/status/lag`, { method: "DELETE" });
    const saturated = await round(primary, router.send, ROUND_MS, saturating);
    const saturatedLag = (await replication(primary)).lag;
    await stopAll();

    // The region process's CPU split by a V8 profile: a third cloud, profiled, one saturating round.
    const profiles = mkdtempSync(path.join(tmpdir(), "calcburst-profiles-"));
    const profiled = await startCloud("profiled", { cpuProfileDirectory: profiles });
    const apiPid = profiled.state.regions[SOURCE_REGION]?.api.pid;
    const profiledSend = httpSender(profiled.state.router.url, fromUs);
    await round(profiled, profiledSend, WARM_UP_MS, 4);
    console.error(`profiling the ${SOURCE_REGION} API process over a ${ROUND_MS} ms round ...`);
    await round(profiled, profiledSend, ROUND_MS, saturating);
    await stopAll();
    const profileFile = readdirSync(profiles).find((file) => file.includes(`.${apiPid}.`));
    const split =
      profileFile === undefined ? new Map<string, number>() : splitProfile(path.join(profiles, profileFile));
    rmSync(profiles, { recursive: true, force: true });
    const splitTotal = [...split.values()].reduce((sum, count) => sum + count, 0);

    const row = (concurrency: number, s: Summary) =>
      `| ${concurrency} | ${s.name} | ${s.rps.toFixed(0)} | ${fixed(s.p50)} | ${fixed(s.p95)} | ${fixed(s.p99)} | ${s.errors} of ${s.requests} |`;
    const verdictRows = CONCURRENCIES.flatMap((concurrency) => {
      const [viaRouter, direct, , ceiling] = byConcurrency.get(concurrency) ?? [];
      if (viaRouter === undefined || direct === undefined || ceiling === undefined) return [];
      const overhead = direct.rps / viaRouter.rps;
      const share = viaRouter.rps / ceiling.rps;
      return [
        `| router overhead at ${concurrency} concurrent (direct ÷ router, writes/s to replicated) | ${overhead.toFixed(2)}× (p50 ${fixed(viaRouter.p50)} vs ${fixed(direct.p50)} ms) | ≤ ${TARGETS.routerOverhead}× | ${verdict(overhead <= TARGETS.routerOverhead)} |`,
        `| end to end as a share of the DynamoDB Local ceiling at ${concurrency} concurrent | ${(share * 100).toFixed(0)}% | ≥ ${TARGETS.shareOfCeiling * 100}% | ${verdict(share >= TARGETS.shareOfCeiling)} |`,
      ];
    });
    const endpointRow = `| what the data endpoints cost end to end at ${Math.max(...CONCURRENCIES)} concurrent (1 − with ÷ without; median of ${ENDPOINT_PAIRS} pairs of fresh clouds) | ${(endpointCost * 100).toFixed(1)}% (pairs: ${withAndWithout.map((pair) => `${pair.with.toFixed(0)} vs ${pair.without.toFixed(0)}`).join(", ")} writes/s; ratios ${endpointRatios.map((ratio) => ratio.toFixed(2)).join(", ")}) | ≤ ${TARGETS.endpointCost * 100}% | ${verdict(endpointCost <= TARGETS.endpointCost)} |`;
    const lagRow = (label: string, lag: PairStatus["lag"] | undefined) =>
      `| replication lag ${SOURCE_REGION} → ${TARGET_REGION}, ${label}: p50 / p99 over ${lag?.samples ?? 0} writes (ms) | ${lag?.p50Ms ?? "-"} / ${lag?.p99Ms ?? "-"} (max ${lag?.maxMs ?? "-"}) | p99 ≤ ${TARGETS.lagP99Ms} ms | ${verdict((lag?.p99Ms ?? Number.POSITIVE_INFINITY) <= TARGETS.lagP99Ms)} |`;
    const cpuTotal = cpu.perProcess.reduce((sum, one) => sum + one.msPerRequest, 0);
    const cpuCeilingTotal = cpuCeiling.perProcess.reduce((sum, one) => sum + one.msPerRequest, 0);
    const apiMs = cpu.perProcess.find((one) => one.name.startsWith(`${SOURCE_REGION} API process`))?.msPerRequest ?? 0;
    writeSection("local", [
      "## Local cloud end to end",
      "",
      measuredOn(),
      `Command: \`npm run bench:local\`. Stack \`prod\` at time scale 1. Closed-loop clients at ${CONCURRENCIES.join(" and ")} concurrent; per concurrency ${ROUNDS} rounds of ${ROUND_MS / 1000} s per target, the order alternating. Every request is a new calculation (\`POST /v1/calculations\`, five operations in turn), so every one is a conditional PutItem. **A round is counted until its last write was applied in ${TARGET_REGION}** (writes/s = writes ÷ time from the round's first request to that moment), so every target pays for its own replication inside its round, the ceiling included: its PutItems carry the stamp the data endpoint would add, so the replicator replicates them. What the data endpoints cost is measured before, on fresh clouds started in turn with and without them (\`--bypass-data-endpoint\`: the functions write to DynamoDB Local directly and the replicator stamps writes from the stream, so replication costs the same), each warmed up for ${ENDPOINT_WARM_UP_MS / 1000} s, then one saturating router round each.`,
      "",
      "| concurrent | target | writes/s to replicated | p50 ms | p95 ms | p99 ms | errors |",
      "|---|---|---|---|---|---|---|",
      ...CONCURRENCIES.flatMap((concurrency) => (byConcurrency.get(concurrency) ?? []).map((s) => row(concurrency, s))),
      "",
      "| measure | value | target | verdict |",
      "|---|---|---|---|",
      ...verdictRows,
      endpointRow,
      lagRow(`at a steady ${STEADY_RATE_PER_SECOND} writes/s`, steadyLag),
      lagRow(
        `under ${saturating} concurrent clients (${(saturated.requests / saturated.secondsToReplicated).toFixed(0)} writes/s)`,
        saturatedLag,
      ),
      "",
      `### Where the CPU goes, per end-to-end write (${saturating} concurrent, /proc accounting)`,
      "",
      `One more ${ROUND_MS / 1000} s round through the router (${cpu.requests} writes) and one straight to DynamoDB Local (${cpuCeiling.requests} writes), each process's user + system CPU from \`/proc/<pid>/stat\` from the round's start until replicated, divided by the writes.`,
      "",
      "| process | ms CPU per write, through the router | ms CPU per write, straight to DynamoDB Local |",
      "|---|---|---|",
      ...cpu.perProcess.map(
        (one, index) =>
          `| ${one.name} | ${fixed(one.msPerRequest, 2)} | ${fixed(cpuCeiling.perProcess[index]?.msPerRequest ?? Number.NaN, 2)} |`,
      ),
      `| **all processes** | **${fixed(cpuTotal, 2)}** | **${fixed(cpuCeilingTotal, 2)}** |`,
      "",
      splitTotal === 0
        ? `The ${SOURCE_REGION} API process's profile could not be read.`
        : `The ${SOURCE_REGION} API process (${fixed(apiMs, 2)} ms per write above), split by a V8 CPU profile of that process over one saturating round on a third, profiled cloud (${splitTotal} busy samples; each sample goes to the innermost frame that names its part): ${[
            ...split,
          ]
            .sort((a, b) => b[1] - a[1])
            .map(([name, count]) => `${name} ${((count / splitTotal) * 100).toFixed(0)}%`)
            .join(", ")}.`,
      "",
      "### The batch route's writes",
      "",
      `A batch of 100 items against ${SOURCE_REGION} DynamoDB Local, ${BATCHES} batches each way, alternating: as four BatchWriteItem calls of 25 side by side (what the route did before: unconditional, it could overwrite an acknowledged write) took p50 ${fixed(strategies.batchWrite.p50)} ms, p95 ${fixed(strategies.batchWrite.p95)} ms; as 100 conditional PutItems, 25 in flight (what it does now) p50 ${fixed(strategies.conditional.p50)} ms, p95 ${fixed(strategies.conditional.p95)} ms (${fixed(strategies.conditional.p50 / strategies.batchWrite.p50, 2)}× at p50). The whole route through the router, a batch of 100: p50 ${fixed(batchRoute.p50)} ms, p95 ${fixed(batchRoute.p95)} ms. On AWS both cost the same write capacity per item (one write unit per item up to 1 KB).`,
      "",
      "Everything shares the same two cores: the load generator, the router, two region APIs (each hosting its region's data endpoint), two JVMs and the replicator. The lag is the age of each write (now − the time its data endpoint applied it) when the replicator applied it in the other region, so it includes DynamoDB Local's stream delay and the replicator's 20 ms idle poll.",
    ]);
  } finally {
    await stopAll();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
