/**
 * `npm run bench:sizing`: what one write costs the function, end to end through the built bundle
 * (validation, the engine, the log line, the metrics, and the AWS SDK's PutItem with its
 * marshalling, signing and HTTP), in CPU time and resident memory. DynamoDB is a stub in another
 * process that accepts every request, so its own CPU is not counted. infra/cost.ts derives the
 * billed Lambda duration per memory size from these figures and DynamoDB's documented latency
 * (docs/COSTS.md); they are written to infra/pricing/function-measurements.json and
 * docs/BENCHMARKS.md.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { type FunctionMeasurements, MEASUREMENTS_FILE } from "../infra/cost.js";
import { HANDLER_BUNDLE } from "../shared/paths.js";
import { measuredOn, writeSection } from "./report.js";
import { median } from "./stats.js";

const WARM_UP = 2_000;
const ROUNDS = 7;
const PER_ROUND = 2_000;

/** Answers every DynamoDB call with an empty success: PutItem accepted. */
const STUB_SOURCE = `
const server = require("node:http").createServer((request, response) => {
  request.resume();
  request.on("end", () => {
    response.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
    response.end("{}");
  });
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
process.on("disconnect", () => process.exit(0));
`;

async function startStub(): Promise<{ child: ChildProcess; endpoint: string }> {
  const child = spawn(process.execPath, ["-e", STUB_SOURCE], { stdio: ["ignore", "pipe", "inherit", "ipc"] });
  const [chunk] = (await once(child.stdout as NodeJS.ReadableStream, "data")) as [Buffer];
  return { child, endpoint: `http://127.0.0.1:${chunk.toString().trim()}` };
}

/**
 * The function's process, as bare as a Lambda execution environment: plain Node, the bundle and
 * nothing else (no TypeScript loader, no benchmark code), writing through the handler and
 * reporting its CPU per write for each round and its resident memory at the end. The log lines
 * are formatted as on Lambda, then dropped: their CPU counts, the pipe does not.
 */
const FUNCTION_SOURCE = `
const [bundle, warmUp, rounds, perRound] = process.argv.slice(1);
// The AWS SDK warns that its 2027 releases need Node 22 (Lambda runs nodejs22.x); only that is hidden.
process.removeAllListeners("warning");
process.on("warning", (warning) => { if (!warning.message.startsWith("NodeVersionSupportWarning")) console.warn(warning.message); });
const { handler } = require(bundle);
process.stdout.write = () => true;
const event = (index) => ({
  version: "2.0",
  routeKey: "$default",
  rawPath: "/v1/calculations",
  rawQueryString: "",
  headers: { "content-type": "application/json" },
  requestContext: { http: { method: "POST", path: "/v1/calculations", sourceIp: "203.0.113.7" }, requestId: "r" + index, timeEpoch: Date.now() },
  body: JSON.stringify({ operation: "mean", operands: [1, 2, "3.5", 8], id: "sizing-" + index }),
  isBase64Encoded: false,
});
async function writes(from, count) {
  const before = process.cpuUsage();
  for (let index = from; index < from + count; index++) {
    const result = await handler(event(index), { awsRequestId: "sizing-" + index });
    if (result.statusCode !== 201) throw new Error("write " + index + " answered " + result.statusCode + ": " + result.body);
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / count;
}
(async () => {
  await writes(0, Number(warmUp));
  const cpuMs = [];
  for (let round = 0; round < Number(rounds); round++) {
    cpuMs.push(await writes(Number(warmUp) + round * Number(perRound), Number(perRound)));
  }
  process.send({ cpuMs, rssMb: process.memoryUsage().rss / 2 ** 20 });
})().catch((error) => { console.error(error); process.exit(1); });
`;

async function measure(endpoint: string): Promise<{ cpuMs: number[]; rssMb: number }> {
  const child = spawn(
    process.execPath,
    ["-e", FUNCTION_SOURCE, path.resolve(HANDLER_BUNDLE), String(WARM_UP), String(ROUNDS), String(PER_ROUND)],
    {
      stdio: ["ignore", "ignore", "inherit", "ipc"],
      env: {
        PATH: process.env.PATH,
        AWS_REGION: "us-east-1",
        TABLE_NAME: "calcburst-calculations",
        DYNAMODB_ENDPOINT: endpoint,
        AWS_ACCESS_KEY_ID: "sizing",
        AWS_SECRET_ACCESS_KEY: "sizing",
        CALCBURST_TTL_DAYS: "30",
        LOG_LEVEL: "info",
      },
    },
  );
  const [result] = (await once(child, "message")) as [{ cpuMs: number[]; rssMb: number }];
  child.kill();
  return result;
}

async function main(): Promise<void> {
  const stub = await startStub();
  let measured: { cpuMs: number[]; rssMb: number };
  try {
    measured = await measure(stub.endpoint);
  } finally {
    stub.child.disconnect();
  }
  const measurements: FunctionMeasurements = {
    $comment:
      "Written by npm run bench:sizing (bench/function-sizing.ts): CPU per write through the built bundle, in a plain Node process, against a stub DynamoDB endpoint in another; and that process's resident memory after the run. infra/cost.ts derives the billed Lambda duration from them.",
    measured: measuredOn(),
    cpuMsPerWrite: Number(median(measured.cpuMs).toFixed(3)),
    cpuMsPerWriteRounds: measured.cpuMs.map((ms) => Number(ms.toFixed(3))),
    rssMb: Math.round(measured.rssMb),
  };
  // Arrays of numbers on one line, as the repository's formatter (biome) writes them.
  const json = JSON.stringify(measurements, null, 2).replace(
    /\[\s+([\d.,\s]+?)\s+\]/g,
    (_all, items: string) => `[${items.split(/,\s*/).join(", ")}]`,
  );
  writeFileSync(MEASUREMENTS_FILE, `${json}\n`);
  writeSection("sizing", [
    "## The function's CPU and memory per write",
    "",
    `${measurements.measured} Command: \`npm run bench:sizing\`.`,
    "",
    "| measure | value |",
    "|---|---|",
    `| CPU per \`POST /v1/calculations\` through the built bundle in a plain Node process, SDK PutItem included, DynamoDB a stub in another process (ms, median of ${ROUNDS} rounds × ${PER_ROUND.toLocaleString("en-US")}) | ${measurements.cpuMsPerWrite} |`,
    `| the rounds (ms) | ${measurements.cpuMsPerWriteRounds.join(", ")} |`,
    `| resident memory of that process after ${(WARM_UP + ROUNDS * PER_ROUND).toLocaleString("en-US")} writes (MiB) | ${measurements.rssMb} |`,
    "",
    "One core of this machine stands in for Lambda's one vCPU (1,769 MB); docs/COSTS.md turns these into a billed duration per memory size.",
  ]);
}

main().catch((error: unknown) => {
  console.error(`npm run bench:sizing failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
