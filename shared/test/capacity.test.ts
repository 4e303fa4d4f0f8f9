import { describe, expect, it } from "vitest";
import { HEALTH_ROUTE, parseStackConfig } from "../stack-config.js";
import { problemsOf } from "./support/problems.js";

/** A stack whose peak is 1,667 requests per second (100,000 a minute), with a 250 ms objective. */
const STACK = {
  "calcburst:regions": ["us-east-1", "eu-west-1"],
  "calcburst:domain": "example.com",
  "calcburst:hostedZoneId": "Z0123456789ABC",
  "calcburst:monitoringRegion": "us-east-1",
  "calcburst:alertEmail": "oncall@example.com",
  "calcburst:peakRequestsPerSecond": 1667,
  "calcburst:latencyObjectiveMs": 250,
};

describe("capacity from the stack's peak", () => {
  it("sizes every region for the whole peak when the stack names only the peak", () => {
    const config = parseStackConfig(STACK);

    expect(config.apiThrottlingRateLimit).toBe(1667);
    expect(config.apiThrottlingBurstLimit).toBe(3334);
    // (1,667 API + 100 /health requests per second) × 0.25 s, rounded up.
    expect(config.lambdaReservedConcurrency).toBe(Math.ceil((1667 + HEALTH_ROUTE.rateLimit) * 0.25));
  });

  it("refuses a stage throttle a region left alone with the peak would answer with 429s", () => {
    expect(problemsOf({ ...STACK, "calcburst:apiThrottlingRateLimit": 1000 })).toEqual([
      "apiThrottlingRateLimit 1000 is below peakRequestsPerSecond 1667: a region left alone with the whole peak would answer the rest with 429. Raise it, or leave it out (it defaults to the peak)",
    ]);
  });

  it("refuses reserved concurrency below the peak times the latency objective", () => {
    expect(problemsOf({ ...STACK, "calcburst:lambdaReservedConcurrency": 50 })).toEqual([
      "lambdaReservedConcurrency 50 cannot carry peakRequestsPerSecond 1667: at the 250 ms latency objective that takes 417 concurrent executions. Raise it, or leave it out (it defaults to what the stage throttle needs)",
    ]);
    expect(problemsOf({ ...STACK, "calcburst:lambdaReservedConcurrency": 417 })).toEqual([]);
  });

  it("keeps explicit values that carry the peak", () => {
    const config = parseStackConfig({
      ...STACK,
      "calcburst:apiThrottlingRateLimit": 2000,
      "calcburst:apiThrottlingBurstLimit": 2500,
      "calcburst:lambdaReservedConcurrency": 600,
    });

    expect([config.apiThrottlingRateLimit, config.apiThrottlingBurstLimit, config.lambdaReservedConcurrency]).toEqual([
      2000, 2500, 600,
    ]);
  });
});
