/**
 * `npm start`: one region of CalcBurst on this machine (the real handler bundle, API Gateway's
 * payload-2.0 events, Amazon's DynamoDB Local), a short demo through real HTTP, then it serves
 * until Ctrl-C. The two-region local cloud grows out of this (see docs/ARCHITECTURE.md).
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { startDynamoDbLocal } from "./dynamodb/launcher.js";
import { ensureCalculationsTable } from "./dynamodb/tables.js";
import type { PayloadV2Handler } from "./region/server.js";
import { startRegionServer } from "./region/server.js";

const BUNDLE = path.resolve(__dirname, "..", "dist", "functions", "handler.js");
const TABLE_NAME = "calcburst-calculations";

const { values: args } = parseArgs({
  options: {
    port: { type: "string", default: "8080" },
    region: { type: "string", default: "us-east-1" },
    "exit-after-demo": { type: "boolean", default: false },
  },
});

interface DemoStep {
  label: string;
  method: "GET" | "POST";
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  show: (body: Record<string, unknown>) => string;
}

const showResult = (body: Record<string, unknown>) => `result ${String(body.result)}`;
const showProblem = (body: Record<string, unknown>) => `${String(body.title)}: ${String(body.detail)}`;

const STDDEV_REQUEST = { operation: "stddev_sample", operands: ["2", "4", "4", "4", "5", "5", "7", "9"] };

const DEMO: DemoStep[] = [
  {
    label: "0.1 + 0.2, exactly",
    method: "POST",
    path: "/v1/calculations",
    body: { operation: "add", operands: [0.1, 0.2] },
    show: showResult,
  },
  {
    label: "1 / 3 to 10 significant digits",
    method: "POST",
    path: "/v1/calculations",
    body: { operation: "divide", operands: [1, 3], precision: 10 },
    show: showResult,
  },
  {
    label: "sample stddev, with an idempotency key",
    method: "POST",
    path: "/v1/calculations",
    headers: { "idempotency-key": "demo-stddev" },
    body: STDDEV_REQUEST,
    show: showResult,
  },
  {
    label: "the same request retried: replayed, not rewritten",
    method: "POST",
    path: "/v1/calculations",
    headers: { "idempotency-key": "demo-stddev" },
    body: STDDEV_REQUEST,
    show: showResult,
  },
  { label: "read it back", method: "GET", path: "/v1/calculations/demo-stddev", show: showResult },
  {
    label: "a batch of three, one of them bad",
    method: "POST",
    path: "/v1/calculations/batch",
    body: {
      items: [
        { operation: "sqrt", operands: [2] },
        { operation: "median", operands: [3, 1, 2] },
        { operation: "sqrt", operands: [-1] },
      ],
    },
    show: (body) => `${String(body.succeeded)} written, ${String(body.failed)} refused`,
  },
  {
    label: "divide by zero",
    method: "POST",
    path: "/v1/calculations",
    body: { operation: "divide", operands: [1, 0] },
    show: showProblem,
  },
  { label: "deep health check", method: "GET", path: "/health", show: (body) => `status ${String(body.status)}` },
];

async function runDemo(baseUrl: string): Promise<void> {
  console.log("\ndemo: real HTTP requests to the local region\n");
  for (const step of DEMO) {
    const response = await fetch(`${baseUrl}${step.path}`, {
      method: step.method,
      headers: { "content-type": "application/json", ...step.headers },
      ...(step.body !== undefined ? { body: JSON.stringify(step.body) } : {}),
    });
    const body = (await response.json()) as Record<string, unknown>;
    const where = `${response.headers.get("x-calcburst-region")}, ${String(body.durationMs)} ms`;
    console.log(
      `  ${step.method.padEnd(4)} ${step.path.padEnd(30)} ${response.status}  ${step.show(body)}  (${where})`,
    );
    console.log(`       ${step.label}`);
  }
}

/** The AWS SDK warns once per process that it will need Node 22 from 2027; Lambda runs Node 22. */
function quietSdkNodeWarning(): void {
  process.removeAllListeners("warning");
  process.on("warning", (warning) => {
    if (!warning.message.startsWith("NodeVersionSupportWarning")) console.warn(`${warning.name}: ${warning.message}`);
  });
}

async function main(): Promise<void> {
  quietSdkNodeWarning();
  const region = args.region;
  const port = Number(args.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be a port number, not ${args.port}`);

  console.log(`starting DynamoDB Local for ${region} ...`);
  const database = await startDynamoDbLocal();
  const stopAll: (() => Promise<void>)[] = [() => database.stop()];
  const shutdown = async (code: number) => {
    console.log("stopping the API and DynamoDB Local ...");
    for (const stop of stopAll.reverse()) await stop().catch(() => undefined);
    console.log("stopped");
    process.exit(code);
  };
  process.once("SIGINT", () => void shutdown(0));
  process.once("SIGTERM", () => void shutdown(0));
  try {
    await ensureCalculationsTable(database.endpoint, region, TABLE_NAME);
    console.log(`DynamoDB Local ${database.endpoint} (pid ${database.pid}), table ${TABLE_NAME}`);

    Object.assign(process.env, {
      TABLE_NAME,
      AWS_REGION: region,
      DYNAMODB_ENDPOINT: database.endpoint,
      LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
    });
    const { handler } = require(BUNDLE) as { handler: PayloadV2Handler };
    const api = await startRegionServer({ region, handler, port }).catch((error: NodeJS.ErrnoException) => {
      throw error.code === "EADDRINUSE"
        ? new Error(`port ${port} is in use: pass another with npm start -- --port <n>`)
        : error;
    });
    stopAll.push(() => api.close());
    console.log(`API (${region}) ${api.url}  — the handler bundle ${path.relative(process.cwd(), BUNDLE)}`);

    await runDemo(api.url);
    if (args["exit-after-demo"]) return await shutdown(0);
    console.log(`\nserving on ${api.url}; try:`);
    console.log(
      `  curl -s ${api.url}/v1/calculations -H 'content-type: application/json' -d '{"operation":"mean","operands":[1,2,3.5]}'`,
    );
    console.log("Ctrl-C stops everything.");
  } catch (error) {
    console.error(`npm start failed: ${(error as Error).message}`);
    await shutdown(1);
  }
}

void main();
