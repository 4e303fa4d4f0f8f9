import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadPrices, monthlyCost, renderCostTable, trafficFor } from "../cost.js";

const prices = loadPrices();
const line = (lines: ReturnType<typeof monthlyCost>, service: string, start: string) =>
  lines.find((candidate) => candidate.service === service && candidate.item.startsWith(start));

describe("the cost model", () => {
  it("charges every write once more per additional region, as a replicated write", () => {
    const two = monthlyCost(trafficFor("prod", 1000, { regions: 2 }), prices);
    const three = monthlyCost(trafficFor("prod", 1000, { regions: 3 }), prices);

    const writes = line(two, "DynamoDB", "writes")?.monthlyUsd ?? 0;
    expect(writes).toBeGreaterThan(0);
    expect(line(two, "DynamoDB", "replicated writes")?.monthlyUsd).toBeCloseTo(writes, 6);
    expect(line(three, "DynamoDB", "replicated writes")?.monthlyUsd).toBeCloseTo(2 * writes, 6);
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

  it("keeps docs/COSTS.md's table what npm run cost computes for 100k requests/minute", () => {
    const table = renderCostTable(trafficFor("prod", 100_000), prices).join("\n");
    const doc = readFileSync(path.resolve(__dirname, "..", "..", "docs", "COSTS.md"), "utf8");

    expect(doc).toContain(table);
  });
});
