import { describe, expect, it } from "vitest";
import { loadStack } from "../../shared/stack-file.js";
import { TABLE_NAME } from "../cloud/cloud.js";
import { eventually, request, useCloud } from "./support/cloud.js";
import { regionsHolding } from "./support/strong.js";

const { config } = loadStack("strong");
const [MAJORITY_SIDE = "", , ISOLATED = ""] = config.regions;
const CATCH_UP_DEADLINE_MS = 60_000;

/** A request straight to a region's API: the router no longer sends clients to an isolated region. */
async function direct(apiUrl: string, path: string, body?: unknown) {
  const response = await fetch(`${apiUrl}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json" },
    ...(body !== undefined && { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("a region cut off from the majority on the MRSC stack", () => {
  const theCloud = useCloud(0.05, { stack: "strong" });

  it("refuses the isolated region's writes and strong reads while the majority side serves, and catches up after", async () => {
    const before = await request(theCloud().routerUrl, {
      path: "/v1/calculations",
      targetRegion: ISOLATED,
      body: { operation: "add", operands: ["2", "2"], id: "written-before-isolation" },
    });
    expect(before.status).toBe(201);
    const fail = theCloud().cli("fail", ISOLATED, "--mode", "isolate");
    expect(fail.status, fail.stderr).toBe(0);
    const isolatedApi = theCloud().state().regions[ISOLATED]?.api.url ?? "";

    const write = await direct(isolatedApi, "/v1/calculations", {
      operation: "add",
      operands: ["3", "3"],
      id: "written-in-isolation",
    });
    const read = await direct(isolatedApi, "/v1/calculations/written-before-isolation");
    const health = await direct(isolatedApi, "/health");
    const majority = await request(theCloud().routerUrl, {
      path: "/v1/calculations",
      targetRegion: MAJORITY_SIDE,
      body: { operation: "add", operands: ["4", "4"], id: "written-by-the-majority" },
    });
    const missedByIsolated = await regionsHolding(theCloud(), TABLE_NAME, "written-by-the-majority");

    expect(write.status).toBe(503);
    expect(write.body.type).toBe("urn:calcburst:problem:write-not-acknowledged");
    expect(await regionsHolding(theCloud(), TABLE_NAME, "written-in-isolation")).toEqual([]);
    expect(read.status).toBe(503);
    expect(health.status).toBe(503);
    expect(String(health.body.detail)).toContain("cannot reach a majority");
    expect(majority.status).toBe(201);
    expect(missedByIsolated).not.toContain(ISOLATED);

    const restore = theCloud().cli("restore", ISOLATED);
    expect(restore.status, restore.stderr).toBe(0);
    const caughtUp = await eventually(
      `${ISOLATED} holding the write it missed`,
      async () =>
        (await regionsHolding(theCloud(), TABLE_NAME, "written-by-the-majority")).includes(ISOLATED) ? true : undefined,
      CATCH_UP_DEADLINE_MS,
      200,
    );
    expect(caughtUp).toBe(true);
  }, 180_000);
});
