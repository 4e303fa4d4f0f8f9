import { describe, expect, it } from "vitest";
import { HEALTH_ROUTE, parseStackConfig } from "../../shared/stack-config.js";
import { readStackValues } from "../../shared/stack-file.js";
import { HEALTH_ROUTE_KEY } from "../policy/policies.js";
import { named, useProgram } from "./support/program.js";

const { values } = readStackValues("prod");
const config = parseStackConfig(values);

describe("each region's capacity on AWS", () => {
  const theRun = useProgram(values);

  it.each(config.regions)("lets %s alone carry the whole peak", (region) => {
    const stage = named(theRun(), "aws:apigatewayv2/stage:Stage", `calcburst-${region}-stage`).inputs;
    const fn = named(theRun(), "aws:lambda/function:Function", `calcburst-${region}-function`).inputs;

    const defaults = stage.defaultRouteSettings as { throttlingRateLimit: number };
    expect(defaults.throttlingRateLimit).toBeGreaterThanOrEqual(config.peakRequestsPerSecond);
    expect(fn.reservedConcurrentExecutions).toBeGreaterThanOrEqual(
      Math.ceil((config.peakRequestsPerSecond * config.latencyObjectiveMs) / 1000),
    );
    for (const tags of [stage.tags, fn.tags]) {
      expect(tags).toMatchObject({
        "calcburst:peak-requests-per-second": String(config.peakRequestsPerSecond),
        "calcburst:latency-objective-ms": String(config.latencyObjectiveMs),
      });
    }
  });

  it.each(config.regions)("gives /health in %s throttling of its own, apart from the API's", (region) => {
    const stage = named(theRun(), "aws:apigatewayv2/stage:Stage", `calcburst-${region}-stage`).inputs;

    // The route the policy pack checks is the one the local cloud throttles on its own.
    expect(HEALTH_ROUTE_KEY).toBe(`${HEALTH_ROUTE.method} ${HEALTH_ROUTE.path}`);
    expect(stage.routeSettings).toEqual([
      expect.objectContaining({
        routeKey: HEALTH_ROUTE_KEY,
        throttlingRateLimit: HEALTH_ROUTE.rateLimit,
        throttlingBurstLimit: HEALTH_ROUTE.burstLimit,
      }),
    ]);
  });
});
