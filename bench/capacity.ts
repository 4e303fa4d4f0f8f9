/**
 * `npm run bench:capacity`: latency against offered load through the local cloud's router. An
 * open-loop generator offers writes at a fixed rate, step by step, from both client locations;
 * each step records what was achieved and p50/p95/p99. The highest step that keeps up (at least
 * 95% of the offered rate, no errors, p99 within the latency objective) is the sustained rate:
 * written to load/local-capacity.json for `npm run load -- steady`, plotted in
 * docs/bench/latency-vs-load.svg, and reported in docs/BENCHMARKS.md.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import path from "node:path";
import { spawnLocalCloud } from "../local/cloud/spawn.js";
import { LOCAL_CAPACITY_FILE } from "../local/load/ensure.js";
import { PROJECT_ROOT } from "../shared/paths.js";
import { loadStack } from "../shared/stack-file.js";
import { measuredOn, writeSection } from "./report.js";
import { quantile } from "./stats.js";

const STEP_SECONDS = 6;
const WARM_UP_SECONDS = 2;
const FIRST_RATE = 50;
const GROWTH = 1.4;
const MAX_IN_FLIGHT = 512;
const CHART = path.join(PROJECT_ROOT, "docs", "bench", "latency-vs-load.svg");

interface Step {
  offered: number;
  achieved: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  requests: number;
}

/** Offers `rate` writes a second for `seconds`, whatever the answers take (open loop). */
async function offer(routerUrl: string, agent: Agent, rate: number, seconds: number): Promise<Step> {
  const latencies: number[] = [];
  let errors = 0;
  let inFlight = 0;
  let sent = 0;
  const started = performance.now();
  const total = Math.round(rate * seconds);
  const pending: Promise<void>[] = [];
  while (sent < total) {
    const due = started + (sent / rate) * 1000;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    if (inFlight >= MAX_IN_FLIGHT) {
      // The generator's own limit: count it as an error rather than queue without bound.
      errors += 1;
      sent += 1;
      continue;
    }
    const index = sent++;
    inFlight += 1;
    const begun = performance.now();
    pending.push(
      new Promise<void>((resolve) => {
        const call = httpRequest(
          `${routerUrl}/v1/calculations`,
          {
            method: "POST",
            agent,
            headers: {
              "content-type": "application/json",
              "x-client-location": index % 2 === 0 ? "us" : "eu",
            },
          },
          (response) => {
            response.resume();
            response.on("end", () => {
              latencies.push(performance.now() - begun);
              if (response.statusCode !== 201) errors += 1;
              inFlight -= 1;
              resolve();
            });
          },
        );
        call.on("error", () => {
          errors += 1;
          inFlight -= 1;
          resolve();
        });
        call.end(JSON.stringify({ operation: "add", operands: [index, "0.5"] }));
      }),
    );
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    offered: rate,
    achieved: (latencies.length - errors) / elapsed,
    p50: quantile(latencies, 0.5),
    p95: quantile(latencies, 0.95),
    p99: quantile(latencies, 0.99),
    errors,
    requests: total,
  };
}

function chart(steps: Step[], sustained: number, objectiveMs: number): string {
  const width = 720;
  const height = 400;
  const left = 60;
  const bottom = 340;
  const top = 40;
  const right = 20;
  const maxRate = Math.max(...steps.map((step) => step.offered));
  const maxMs = Math.max(objectiveMs * 1.2, ...steps.map((step) => step.p99));
  // Latency on a log scale: a saturated step's p99 is orders above the others.
  const y = (ms: number) => bottom - (Math.log10(Math.max(1, ms)) / Math.log10(maxMs)) * (bottom - top);
  const x = (rate: number) => left + (rate / maxRate) * (width - left - right);
  const line = (pick: (step: Step) => number, colour: string) =>
    `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${steps.map((step) => `${x(step.offered).toFixed(1)},${y(pick(step)).toFixed(1)}`).join(" ")}"/>`;
  const ticksMs = [1, 10, 100, 1000, 10_000].filter((ms) => ms <= maxMs);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    "<title>Local cloud: latency against offered load through the router (writes)</title>",
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${left}" y="22" font-size="14" font-weight="bold">Local cloud: latency against offered load through the router (writes)</text>`,
    `<line x1="${left}" y1="${bottom}" x2="${width - right}" y2="${bottom}" stroke="#444"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="#444"/>`,
    ...ticksMs.map(
      (ms) =>
        `<text x="${left - 6}" y="${y(ms) + 4}" font-size="11" text-anchor="end">${ms} ms</text><line x1="${left}" y1="${y(ms)}" x2="${width - right}" y2="${y(ms)}" stroke="#eee"/>`,
    ),
    ...steps.map(
      (step) =>
        `<text x="${x(step.offered).toFixed(1)}" y="${bottom + 16}" font-size="11" text-anchor="middle">${step.offered}</text>`,
    ),
    `<text x="${(left + width) / 2}" y="${bottom + 34}" font-size="12" text-anchor="middle">offered writes per second</text>`,
    `<line x1="${left}" y1="${y(objectiveMs)}" x2="${width - right}" y2="${y(objectiveMs)}" stroke="#e15759" stroke-dasharray="6,3"/>`,
    `<text x="${width - right}" y="${y(objectiveMs) - 4}" font-size="11" text-anchor="end" fill="#e15759">latency objective ${objectiveMs} ms</text>`,
    sustained > 0
      ? `<line x1="${x(sustained)}" y1="${top}" x2="${x(sustained)}" y2="${bottom}" stroke="#59a14f" stroke-dasharray="6,3"/><text x="${x(sustained) + 4}" y="${top + 12}" font-size="11" fill="#59a14f">sustained: ${sustained}/s</text>`
      : "",
    line((step) => step.p50, "#4e79a7"),
    line((step) => step.p95, "#f28e2b"),
    line((step) => step.p99, "#b07aa1"),
    `<text x="${left + 10}" y="${top + 14}" font-size="12" fill="#4e79a7">p50</text>`,
    `<text x="${left + 45}" y="${top + 14}" font-size="12" fill="#f28e2b">p95</text>`,
    `<text x="${left + 80}" y="${top + 14}" font-size="12" fill="#b07aa1">p99</text>`,
    "</svg>",
    "",
  ].join("\n");
}

async function main(): Promise<void> {
  const { config } = loadStack("prod");
  console.error("starting the local cloud (prod stack, time scale 1, no monitoring) ...");
  const cloud = await spawnLocalCloud();
  const agent = new Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT });
  const steps: Step[] = [];
  try {
    await offer(cloud.routerUrl, agent, FIRST_RATE, WARM_UP_SECONDS);
    let rate = FIRST_RATE;
    let failing = 0;
    // Up until two steps in a row cannot keep up: past saturation latency only grows.
    while (failing < 2 && rate <= 5000) {
      const step = await offer(cloud.routerUrl, agent, rate, STEP_SECONDS);
      steps.push(step);
      const keptUp = step.achieved >= step.offered * 0.95 && step.errors === 0 && step.p99 <= config.latencyObjectiveMs;
      console.error(
        `offered ${rate}/s: achieved ${step.achieved.toFixed(0)}/s, p50 ${step.p50.toFixed(1)} ms, p95 ${step.p95.toFixed(1)} ms, p99 ${step.p99.toFixed(1)} ms, errors ${step.errors}${keptUp ? "" : "  (did not keep up)"}`,
      );
      failing = keptUp ? 0 : failing + 1;
      rate = Math.round(rate * GROWTH);
    }
  } finally {
    agent.destroy();
    cloud.child.kill("SIGTERM");
    await new Promise((resolve) => cloud.child.once("exit", resolve));
    rmSync(cloud.stateDirectory, { recursive: true, force: true });
  }
  const sustainedStep = [...steps]
    .filter(
      (step) => step.achieved >= step.offered * 0.95 && step.errors === 0 && step.p99 <= config.latencyObjectiveMs,
    )
    .pop();
  const sustained = sustainedStep?.offered ?? 0;
  const date = new Date().toISOString().slice(0, 10);
  writeFileSync(
    LOCAL_CAPACITY_FILE,
    `${JSON.stringify({ sustainedRequestsPerSecond: sustained, measuredOn: date, command: "npm run bench:capacity", steps }, null, 2)}\n`,
  );
  mkdirSync(path.dirname(CHART), { recursive: true });
  writeFileSync(CHART, chart(steps, sustained, config.latencyObjectiveMs));

  writeSection("capacity", [
    "## Local cloud: latency against offered load",
    "",
    measuredOn(),
    "Command: `npm run bench:capacity` (an open-loop generator in its own process: writes through the router from both client locations, one step of " +
      `${STEP_SECONDS} s per rate, the rate growing ${GROWTH}× a step until two steps in a row cannot keep up).`,
    "",
    `**Sustained: ${sustained} writes/s** — the highest step that achieved at least 95% of the offered rate with no error and p99 within the ${config.latencyObjectiveMs} ms latency objective. \`npm run load -- steady\` runs at this rate locally (\`load/local-capacity.json\`).`,
    "",
    "![latency against offered load](bench/latency-vs-load.svg)",
    "",
    "| offered /s | achieved /s | p50 ms | p95 ms | p99 ms | errors |",
    "|---|---|---|---|---|---|",
    ...steps.map(
      (step) =>
        `| ${step.offered} | ${step.achieved.toFixed(0)} | ${step.p50.toFixed(1)} | ${step.p95.toFixed(1)} | ${step.p99.toFixed(1)} | ${step.errors} |`,
    ),
    "",
    "Everything shares the machine's two cores: two DynamoDB Local JVMs, two region processes, the replicator, the router and this generator. The figure is this machine's, not AWS's.",
  ]);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
