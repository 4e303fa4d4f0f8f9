import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { listStacks } from "../../shared/stack-file.js";
import {
  billedDurationMs,
  cheapestMemory,
  costSections,
  type FunctionMeasurements,
  loadMeasurements,
  loadPrices,
  memoryOptions,
  monthlyCost,
  trafficFor,
} from "../cost.js";

const prices = loadPrices();
const line = (lines: ReturnType<typeof monthlyCost>, service: string, start: string) =>
  lines.find((candidate) => candidate.service === service && candidate.item.startsWith(start));
const measured = (cpuMsPerWrite: number, rssMb: number): FunctionMeasurements => ({
  $comment: "",
  measured: "",
  cpuMsPerWrite,
  cpuMsPerWriteRounds: [cpuMsPerWrite],
  rssMb,
});

describe("the cost model", () => {
  it("charges every write once more per additional region, as a replicated write", () => {
    const two = monthlyCost(trafficFor("prod", 1000, { regions: 2 }), prices);
    const three = monthlyCost(trafficFor("prod", 1000, { regions: 3 }), prices);

    const writes = line(two, "DynamoDB", "writes")?.monthlyUsd ?? 0;
    expect(writes).toBeGreaterThan(0);
    expect(line(two, "DynamoDB", "replicated writes")?.monthlyUsd).toBeCloseTo(writes, 6);
    expect(line(three, "DynamoDB", "replicated writes")?.monthlyUsd).toBeCloseTo(2 * writes, 6);
  });

  it("charges every item's TTL delete as a replicated write in every other region", () => {
    const two = monthlyCost(trafficFor("prod", 1000, { regions: 2 }), prices);
    const three = monthlyCost(trafficFor("prod", 1000, { regions: 3 }), prices);

    const writes = line(two, "DynamoDB", "writes")?.monthlyUsd ?? 0;
    expect(line(two, "DynamoDB", "replicated TTL deletes")?.monthlyUsd).toBeCloseTo(writes, 6);
    expect(line(three, "DynamoDB", "replicated TTL deletes")?.monthlyUsd).toBeCloseTo(2 * writes, 6);
  });

  it("prices 1 M writes at the list price of one WRU each", () => {
    // 1 M requests a month is 1e6 / (730 × 60) per minute.
    const lines = monthlyCost(trafficFor("prod", 1e6 / (730 * 60)), prices);

    expect(line(lines, "DynamoDB", "writes")?.monthlyUsd).toBeCloseTo(
      prices.dynamodbOnDemand.usdPerMillionWriteRequestUnits,
      6,
    );
  });

  it("moves to the lower API Gateway tier past 300 M requests in a region", () => {
    const small = line(monthlyCost(trafficFor("prod", 1000), prices), "API Gateway", "HTTP API");
    const large = line(monthlyCost(trafficFor("prod", 100_000), prices), "API Gateway", "HTTP API");
    const perMillion = (entry: typeof small) =>
      (entry?.monthlyUsd ?? 0) /
      (Number.parseFloat(entry?.quantity ?? "0") * (entry?.quantity.endsWith("B") ? 1000 : 1));

    expect(perMillion(small)).toBeCloseTo(1.0, 2);
    expect(perMillion(large)).toBeLessThan(0.95);
  });

  it("prices each stack at its own peak unless given a rate", () => {
    expect(trafficFor("prod").requestsPerMinute).toBe(1667 * 60);
    expect(trafficFor("staging").requestsPerMinute).toBe(50 * 60);
    expect(trafficFor("staging", 1200).requestsPerMinute).toBe(1200);
  });

  it("derives the billed duration from DynamoDB's documented latency and the CPU a vCPU share buys", () => {
    const cpu = measured(0.8, 135);

    // 10 ms + 0.8 ms ÷ (256 / 1769) = 15.5 ms, billed as 16.
    expect(billedDurationMs(256, cpu)).toBe(16);
    expect(billedDurationMs(1769, cpu)).toBe(11);
    // Past one vCPU the one-threaded function gets no faster.
    expect(billedDurationMs(4096, cpu)).toBe(11);
    const table = line(monthlyCost(trafficFor("prod"), prices), "Lambda", "duration");
    expect(table?.item).toBe(`duration: 256 MB × ${billedDurationMs(256, loadMeasurements())} ms (derived)`);
  });

  it("finds the cheapest memory size that leaves headroom over the measured resident memory", () => {
    const options = memoryOptions(measured(0.8, 135), prices);

    expect(options.find((option) => option.memoryMb === 128)?.fits).toBe(false);
    expect(cheapestMemory(options)?.memoryMb).toBe(256);
    expect(cheapestMemory(memoryOptions(measured(0.8, 400), prices))?.memoryMb).toBe(1024);
  });

  it("keeps every table in docs/COSTS.md what npm run cost computes", () => {
    const doc = readFileSync(path.resolve(__dirname, "..", "..", "docs", "COSTS.md"), "utf8");

    const sections = costSections(listStacks(), prices, loadMeasurements());
    expect(Object.keys(sections)).toEqual([...listStacks(), "memory"]);
    for (const [name, lines] of Object.entries(sections)) expect(doc, name).toContain(lines.join("\n"));
  });
});
