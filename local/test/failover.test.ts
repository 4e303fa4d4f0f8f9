import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { FaultMode } from "../cloud/cloud.js";
import { eventually, request, useCloud } from "./support/cloud.js";

const TIME_SCALE = 0.05;
const FAILED_REGION = "us-east-1";
const OTHER_REGION = "eu-west-1";
const LOCATION = "us";
const CLIENTS = Array.from({ length: 8 }, (_, index) => `failover-client-${index}`);
/** Timer and scheduling slack on a busy 2-core machine running two suites at once. */
const SLACK_MS = 1000;

describe("regional failover through the local router", () => {
  const theCloud = useCloud(TIME_SCALE);
  let interval: number;
  let threshold: number;
  let checkTimeout: number;
  let ttl: number;

  const routedRegions = async () =>
    Promise.all(
      CLIENTS.map(
        async (clientId) =>
          (await request(theCloud().routerUrl, { path: "/health", location: LOCATION, clientId })).region,
      ),
    );
  const regionHealth = async () => (await theCloud().status()).health.find((health) => health.region === FAILED_REGION);

  beforeAll(() => {
    ({ intervalMs: interval, failureThreshold: threshold, timeoutMs: checkTimeout } = theCloud().state().healthCheck);
    ttl = theCloud().state().recordTtlMs;
  });

  afterEach(() => {
    // A failed assertion must not leave the fault in place for the next mode.
    theCloud().cli("restore", FAILED_REGION);
  });

  it.each<FaultMode>(["api", "data", "health", "isolate"])(
    `moves traffic to ${OTHER_REGION} when %s fails, within detection plus the TTL, and back on restore`,
    async (mode) => {
      // Prepare: every client's resolver holds the nearest region.
      await eventually(
        "every client is routed to the nearest region",
        async () => ((await routedRegions()).every((region) => region === FAILED_REGION) ? true : undefined),
        ttl + SLACK_MS * 4,
        100,
      );

      // Act
      const fail = theCloud().cli("fail", FAILED_REGION, "--mode", mode);
      const failedAt = Date.parse(theCloud().state().regions[FAILED_REGION]?.faultSince ?? "");

      // Assess: detection within interval × threshold (plus one check's own timeout for a hung one).
      expect(fail.status).toBe(0);
      const detected = await eventually(
        "the router marks the region unhealthy",
        async () => {
          const health = await regionHealth();
          return health?.healthy === false && health.changedAt !== null ? Date.parse(health.changedAt) : undefined;
        },
        interval * threshold + checkTimeout + 5_000,
      );
      const detectionMs = detected - failedAt;
      expect(detectionMs).toBeLessThanOrEqual(interval * threshold + checkTimeout + SLACK_MS);

      // Assess: once the record TTL has passed, no client's resolver still sends it to the failed region.
      await eventually(
        "every client is routed away",
        async () => ((await routedRegions()).every((region) => region === OTHER_REGION) ? true : undefined),
        ttl + SLACK_MS * 4,
        100,
      );
      expect(Date.now() - detected).toBeLessThanOrEqual(ttl + SLACK_MS * 4);
      const served = await request(theCloud().routerUrl, {
        path: "/v1/calculations",
        location: LOCATION,
        clientId: CLIENTS[0] as string,
        body: { operation: "multiply", operands: ["1.5", "4"] },
      });
      expect(served.status).toBe(201);
      expect(served.body.servedBy).toBe(OTHER_REGION);

      // Act: restore
      const restore = theCloud().cli("restore", FAILED_REGION);

      // Assess: healthy again after `threshold` passes, and clients come back as their answers expire.
      expect(restore.status).toBe(0);
      await eventually(
        "the router marks the region healthy again",
        async () => ((await regionHealth())?.healthy === true ? true : undefined),
        interval * threshold + checkTimeout + 5_000,
      );
      await eventually(
        "every client is routed back",
        async () => ((await routedRegions()).every((region) => region === FAILED_REGION) ? true : undefined),
        ttl + SLACK_MS * 4,
        100,
      );
      expect(theCloud().state().regions[FAILED_REGION]?.faults).toEqual([]);
      if (process.env.CALCBURST_REPORT_DRILLS) console.log(`${mode}: detected after ${detectionMs} ms`);
    },
  );
});
