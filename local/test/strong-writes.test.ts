import { describe, expect, it } from "vitest";
import { loadStack } from "../../shared/stack-file.js";
import { TABLE_NAME } from "../cloud/cloud.js";
import { eventually, request, useCloud } from "./support/cloud.js";
import { regionsHolding } from "./support/strong.js";

const { config } = loadStack("strong");
const [FIRST = "", , LAST = ""] = config.regions;
const [, SECOND = ""] = config.regions;
const CONTESTED_KEYS = 8;
const CATCH_UP_DEADLINE_MS = 60_000;
/** How long a majority region gets to answer while the third one hangs. */
const WHILE_HUNG_DEADLINE_MS = 20_000;

/** Asks until the answer is `wanted` or the deadline passes; the last status it got. */
async function lastStatus(wanted: number, ask: () => Promise<{ status: number }>): Promise<number> {
  const deadline = Date.now() + WHILE_HUNG_DEADLINE_MS;
  for (;;) {
    const { status } = await ask();
    if (status === wanted || Date.now() > deadline) return status;
  }
}

describe("writes on the local cloud's MRSC stack (Pulumi.strong.yaml)", () => {
  const theCloud = useCloud(0.05, { stack: "strong" });

  it("holds an acknowledged write in a majority of the regions the moment it is acknowledged", async () => {
    const written = await request(theCloud().routerUrl, {
      path: "/v1/calculations",
      targetRegion: FIRST,
      body: { operation: "add", operands: ["1", "2"], id: "held-by-a-majority" },
    });

    const holding = await regionsHolding(theCloud(), TABLE_NAME, "held-by-a-majority");
    expect(written.status).toBe(201);
    expect(holding.length).toBeGreaterThanOrEqual(2);
  });

  it("lets at most one of two concurrent writes of a key from different regions succeed", async () => {
    const keys = Array.from({ length: CONTESTED_KEYS }, (_, index) => `contested-${index}`);

    const outcomes = await Promise.all(
      keys.map(async (id) => {
        const responses = await Promise.all(
          [FIRST, LAST].map((region, side) =>
            request(theCloud().routerUrl, {
              path: "/v1/calculations",
              targetRegion: region,
              body: { operation: "add", operands: [String(side + 1), "10"], id },
            }),
          ),
        );
        return { id, responses };
      }),
    );

    for (const { id, responses } of outcomes) {
      const statuses = responses.map((response) => response.status);
      expect(statuses.filter((status) => status === 201).length, `${id}: ${statuses.join(", ")}`).toBeLessThanOrEqual(
        1,
      );
      for (const status of statuses) expect([201, 409, 503], id).toContain(status);
      const winner = responses.find((response) => response.status === 201);
      if (winner === undefined) continue;
      for (const region of config.regions) {
        const read = await request(theCloud().routerUrl, { path: `/v1/calculations/${id}`, targetRegion: region });
        expect(read.body.result, `${id} read in ${region}`).toBe(winner.body.result);
      }
    }
  });

  it("serves writes and /health from the majority while the third region's DynamoDB Local hangs, and the third catches up", async () => {
    // Prepare: the third region's table frozen, so every call to it hangs.
    const freeze = theCloud().cli("fail", LAST, "--mode", "data");
    expect(freeze.status, freeze.stderr).toBe(0);

    // Act: each majority region is asked for a write (retried under one idempotency key) and for
    // /health until it answers 201 / 200 or the deadline passes. Waiting out the hung peer (2 s a
    // call, several calls a write) against the function's 3 s write budget and its 1 s data check
    // answered 503 on every attempt, in every region; a busy machine may fail one attempt.
    let written: number[];
    let healthy: number[];
    try {
      written = await Promise.all(
        [FIRST, SECOND].map((region, index) =>
          lastStatus(201, () =>
            request(theCloud().routerUrl, {
              path: "/v1/calculations",
              targetRegion: region,
              body: { operation: "add", operands: [String(index), "5"], id: `while-${LAST}-hangs-${index}` },
            }),
          ),
        ),
      );
      healthy = await Promise.all(
        [FIRST, SECOND].map((region) =>
          lastStatus(200, () => request(theCloud().routerUrl, { path: "/health", targetRegion: region })),
        ),
      );
    } finally {
      const thaw = theCloud().cli("restore", LAST);
      expect(thaw.status, thaw.stderr).toBe(0);
    }

    // Assess
    expect(written).toEqual([201, 201]);
    expect(healthy).toEqual([200, 200]);
    const caughtUp = await eventually(
      `${LAST} holding the writes the majority acknowledged while it hung`,
      async () => {
        for (const index of [0, 1]) {
          const holding = await regionsHolding(theCloud(), TABLE_NAME, `while-${LAST}-hangs-${index}`);
          if (!holding.includes(LAST)) return undefined;
        }
        return true;
      },
      CATCH_UP_DEADLINE_MS,
      200,
    );
    expect(caughtUp).toBe(true);
  });
});
