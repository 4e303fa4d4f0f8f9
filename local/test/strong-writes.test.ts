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
    const freeze = theCloud().cli("fail", LAST, "--mode", "data");
    expect(freeze.status, freeze.stderr).toBe(0);
    let writes: Awaited<ReturnType<typeof request>>[];
    let health: Awaited<ReturnType<typeof request>>[];
    try {
      writes = [];
      health = [];
      for (const [index, region] of [FIRST, SECOND].entries()) {
        writes.push(
          await request(theCloud().routerUrl, {
            path: "/v1/calculations",
            targetRegion: region,
            body: { operation: "add", operands: [String(index), "5"], id: `while-${LAST}-hangs-${index}` },
          }),
        );
        health.push(await request(theCloud().routerUrl, { path: "/health", targetRegion: region }));
      }
    } finally {
      const thaw = theCloud().cli("restore", LAST);
      expect(thaw.status, thaw.stderr).toBe(0);
    }

    // The function gives a write 3 s and /health's data check 1 s: waiting out a peer that hangs
    // (2 s a call, several calls a write) answered 503 in every region, not only the hung one.
    expect(writes.map((write) => write.status)).toEqual([201, 201]);
    expect(health.map((check) => check.status)).toEqual([200, 200]);
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
