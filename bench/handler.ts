/**
 * `npm run bench:handler`: the handler's own cost, the bundle size and cold init, each measured
 * side by side with its baseline in one run, and written into docs/BENCHMARKS.md.
 */
import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { createApp } from "../functions/app.js";
import { createLogger } from "../functions/commons/logger.js";
import { createMetrics } from "../functions/commons/metrics.js";
import { calculate, type EngineInput } from "../functions/engine/calculate.js";
import { createHealthCheck } from "../functions/health.js";
import { startDynamoDbLocal } from "../local/dynamodb/launcher.js";
import { ensureCalculationsTable } from "../local/dynamodb/tables.js";
import { LIMITS } from "../shared/limits.js";
import { HANDLER_BUNDLE } from "../shared/paths.js";
import { buildHttpApiEvent } from "../shared/payload-v2.js";
import { InMemoryStore } from "./in-memory-store.js";
import { measuredOn, verdict, writeSection } from "./report.js";
import { median } from "./stats.js";

const BUNDLE = HANDLER_BUNDLE;
const TARGETS = { microsPerRequest: 50, ratioToNoop: 3, bundleBytes: 150_000, coldInitRatio: 1.1 };

const json = { "content-type": "application/json" };
const post = (body: unknown, pathName = "/v1/calculations") =>
  buildHttpApiEvent({ method: "POST", path: pathName, headers: json, body: JSON.stringify(body) });

/** The fixed request mix: 20 events, weighted by repetition. */
function requestMix(): { name: string; event: APIGatewayProxyEventV2 }[] {
  const twenty = Array.from({ length: 20 }, (_, i) => (i * 1.37).toFixed(2));
  const mix = [
    ...Array(6).fill({ name: "add 2", event: post({ operation: "add", operands: [0.1, 0.2] }) }),
    ...Array(3).fill({ name: "mean 20", event: post({ operation: "mean", operands: twenty }) }),
    ...Array(2).fill({ name: "divide", event: post({ operation: "divide", operands: [1, 3] }) }),
    ...Array(2).fill({ name: "power", event: post({ operation: "power", operands: ["1.05", 30] }) }),
    ...Array(2).fill({
      name: "stddev_sample 10",
      event: post({ operation: "stddev_sample", operands: twenty.slice(0, 10) }),
    }),
    { name: "GET by id", event: buildHttpApiEvent({ method: "GET", path: "/v1/calculations/bench-seed" }) },
    { name: "health", event: buildHttpApiEvent({ method: "GET", path: "/health" }) },
    {
      name: "batch 5",
      event: post({ items: Array(5).fill({ operation: "multiply", operands: [2, "3.5"] }) }, "/v1/calculations/batch"),
    },
    { name: "bad operand (400)", event: post({ operation: "add", operands: [1, "x"] }) },
    { name: "divide by zero (422)", event: post({ operation: "divide", operands: [1, 0] }) },
  ];
  return mix;
}

type Invoke = (event: APIGatewayProxyEventV2) => Promise<unknown>;

/**
 * The Lambda runtime's part of every invoke: the event arrives as JSON text and the response
 * leaves as JSON text. Both handlers run inside it, so the ratio compares like with like.
 */
async function timeHarness(handler: Invoke, eventTexts: string[], requests: number): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < requests; i++) {
    const event = JSON.parse(eventTexts[i % eventTexts.length] as string) as APIGatewayProxyEventV2;
    JSON.stringify(await handler(event));
  }
  return Number(process.hrtime.bigint() - started) / 1000 / requests;
}

async function handlerCost() {
  const store = new InMemoryStore();
  const metrics = createMetrics();
  // Logs are serialised as in production, then dropped: the cost of JSON.stringify counts, the pipe does not.
  const logger = createLogger({
    level: "info",
    base: { service: "calcburst", region: "us-east-1" },
    write: () => undefined,
  });
  const app = createApp({
    region: "us-east-1",
    store,
    metrics,
    logger,
    healthCheck: createHealthCheck({ store, isRegionDisabled: () => false }),
  });
  await app(post({ operation: "add", operands: [1, 1], id: "bench-seed" }));
  const noop: Invoke = async () => ({ statusCode: 200, headers: { "content-type": "application/json" }, body: "{}" });
  const texts = requestMix().map(({ event }) => JSON.stringify(event));

  await timeHarness(app, texts, 20_000);
  await timeHarness(noop, texts, 20_000);
  const handlerRounds: number[] = [];
  const noopRounds: number[] = [];
  for (let round = 0; round < 7; round++) {
    handlerRounds.push(await timeHarness(app, texts, 20_000));
    noopRounds.push(await timeHarness(noop, texts, 20_000));
  }
  const handlerMicros = median(handlerRounds);
  const noopMicros = median(noopRounds);
  const byRequest: { name: string; micros: number }[] = [];
  const seen = new Set<string>();
  for (const { name, event } of requestMix()) {
    if (seen.has(name)) continue;
    seen.add(name);
    const text = [JSON.stringify(event)];
    await timeHarness(app, text, 2_000);
    byRequest.push({
      name,
      micros: median([
        await timeHarness(app, text, 5_000),
        await timeHarness(app, text, 5_000),
        await timeHarness(app, text, 5_000),
      ]),
    });
  }
  return {
    handlerMicros,
    noopMicros,
    ratio: handlerMicros / noopMicros,
    mix: requestMix().map((r) => r.name),
    byRequest,
  };
}

/** The most expensive valid requests: each operation at its operand limit with 38-digit operands. */
function worstCases(): { name: string; ms: number; outcome: string }[] {
  const nearOne = "1.0000000000000000000000000000000000001";
  const big = "9.999999999999999999999999999999999999e125";
  const tiny = "1.000000000000000000000000000000000001e-130";
  const extremes = Array.from({ length: LIMITS.maxOperands }, (_, i) => (i % 2 === 0 ? big : tiny));
  const inputs: { name: string; input: EngineInput }[] = [
    {
      name: "multiply 1000 × 38-digit near 1",
      input: { operation: "multiply", operands: Array(LIMITS.maxOperands).fill(nearOne) },
    },
    {
      name: "divide 1000 × 38-digit near 1",
      input: { operation: "divide", operands: Array(LIMITS.maxOperands).fill(nearOne) },
    },
    { name: "stddev 1000 × 1e125 and 1e-130", input: { operation: "stddev", operands: extremes } },
    { name: "mean 1000 × 1e125 and 1e-130", input: { operation: "mean", operands: extremes } },
    {
      name: "power 38-digit ^ 999.99…",
      input: { operation: "power", operands: [nearOne, "999.999999999999999999999999999999999"] },
    },
  ];
  return inputs.map(({ name, input }) => {
    calculate(input);
    const runs = [0, 1, 2].map(() => {
      const started = process.hrtime.bigint();
      calculate(input);
      return Number(process.hrtime.bigint() - started) / 1e6;
    });
    const outcome = calculate(input);
    return { name, ms: median(runs), outcome: outcome.ok ? "result" : outcome.failure.slug };
  });
}

function wallMs(args: string[], env: NodeJS.ProcessEnv): number {
  const started = process.hrtime.bigint();
  const run = spawnSync(process.execPath, args, { env, encoding: "utf8" });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  if (run.status !== 0) throw new Error(`cold-init run failed: ${run.stderr}`);
  return elapsed;
}

async function coldInit(runs: number) {
  const database = await startDynamoDbLocal();
  try {
    await ensureCalculationsTable(database.endpoint, "us-east-1", "bench");
    const env = {
      ...process.env,
      TABLE_NAME: "bench",
      AWS_REGION: "us-east-1",
      DYNAMODB_ENDPOINT: database.endpoint,
      LOG_LEVEL: "silent",
      NODE_NO_WARNINGS: "1",
    };
    const invoke = (body: unknown) =>
      `require(${JSON.stringify(BUNDLE)}).handler(${JSON.stringify(post(body))}).then((r) => { if (r.statusCode >= 500) process.exit(2); process.exit(0); })`;
    const inProcess = invoke({ operation: "divide", operands: [1, 0] });
    const withWrite = invoke({ operation: "add", operands: [0.1, 0.2] });
    const bare: number[] = [];
    const handlerOnly: number[] = [];
    const write: number[] = [];
    wallMs(["-e", "0"], env);
    wallMs(["-e", withWrite], env);
    for (let i = 0; i < runs; i++) {
      bare.push(wallMs(["-e", "0"], env));
      handlerOnly.push(wallMs(["-e", inProcess], env));
      write.push(wallMs(["-e", withWrite], env));
    }
    return { bare: median(bare), handlerOnly: median(handlerOnly), write: median(write), runs };
  } finally {
    await database.stop();
  }
}

async function main(): Promise<void> {
  const bundleBytes = statSync(BUNDLE).size;
  console.error("handler cost: 2 warm-ups + 7 rounds × 20 000 requests, interleaved with a no-op handler ...");
  const cost = await handlerCost();
  console.error("cold init: 11 interleaved runs each of bare node, require + in-process invoke, require + write ...");
  const cold = await coldInit(11);
  const worst = worstCases();
  const ratioHandler = cold.handlerOnly / cold.bare;
  const ratioWrite = cold.write / cold.bare;

  writeSection("handler", [
    "## Handler, bundle and cold init",
    "",
    measuredOn(),
    "Command: `npm run bench:handler`.",
    "",
    "| measure | value | baseline, same run | ratio | target | verdict |",
    "|---|---|---|---|---|---|",
    `| handler cost per request (µs, median of 7 rounds × 20 000) | ${cost.handlerMicros.toFixed(1)} | no-op handler ${cost.noopMicros.toFixed(1)} | ${cost.ratio.toFixed(2)}× | ≤ ${TARGETS.microsPerRequest} µs and ≤ ${TARGETS.ratioToNoop}× | ${verdict(cost.handlerMicros <= TARGETS.microsPerRequest)} µs, ${verdict(cost.ratio <= TARGETS.ratioToNoop)} ratio |`,
    `| bundle \`dist/functions/handler.js\` | ${(bundleBytes / 1024).toFixed(1)} KiB (${bundleBytes} B) | — | — | ≤ 150 KB | ${verdict(bundleBytes <= TARGETS.bundleBytes)} |`,
    `| cold init: require + first invoke answered in-process (divide by zero → 422), ms, median of ${cold.runs} | ${cold.handlerOnly.toFixed(1)} | \`node -e 0\` ${cold.bare.toFixed(1)} | ${ratioHandler.toFixed(2)}× | ≤ ${TARGETS.coldInitRatio}× | ${verdict(ratioHandler <= TARGETS.coldInitRatio)} |`,
    `| cold init: require + first write (add → 201 in DynamoDB Local, loads the AWS SDK), ms, median of ${cold.runs} | ${cold.write.toFixed(1)} | \`node -e 0\` ${cold.bare.toFixed(1)} | ${ratioWrite.toFixed(2)}× | — (see below) | — |`,
    "",
    "Per request type, same harness (µs, median of 3 × 5 000):",
    "",
    `| ${cost.byRequest.map((r) => r.name).join(" | ")} |`,
    `|${cost.byRequest.map(() => "---").join("|")}|`,
    `| ${cost.byRequest.map((r) => r.micros.toFixed(1)).join(" | ")} |`,
    "",
    "Most expensive valid requests, engine only (ms of CPU, median of 3): the bound on what one request can cost.",
    "",
    "| request | ms | outcome |",
    "|---|---|---|",
    ...worst.map((w) => `| ${w.name} | ${w.ms.toFixed(1)} | ${w.outcome} |`),
    "",
    `Request mix (20 events, cycled): ${cost.mix.join(", ")}. Each invoke runs inside a harness that does what the Lambda runtime does per invoke: \`JSON.parse\` the event text and \`JSON.stringify\` the response. The in-memory store replaces DynamoDB in this benchmark only. Logs are serialised and dropped; metrics are recorded.`,
    "",
    "The AWS SDK is not in the bundle (Lambda's nodejs22.x runtime provides SDK v3) and loads on the first request that touches DynamoDB, so the second cold-init row includes loading it from `node_modules` and one DynamoDB Local round-trip. On Lambda the SDK comes from the runtime's own copy; its load time there was not measured (no AWS access from here).",
  ]);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
