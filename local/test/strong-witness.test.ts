import { rmSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TABLE_NAME } from "../cloud/cloud.js";
import { itemKeyText, PEER_PATH } from "../data/majority.js";
import { eventually, request, useCloud } from "./support/cloud.js";
import { regionsHolding, writeWitnessStack } from "./support/strong.js";

const STACK = writeWitnessStack();
const [FIRST, SECOND] = STACK.regions;
const WITNESS = STACK.witness;
const CATCH_UP_DEADLINE_MS = 60_000;
const CONCURRENT_PAIRS = 5;
/** Each case gives several orders through npm run local (a process each, seconds apiece on a busy machine). */
const CASE_TIMEOUT_MS = 180_000;

/** A request straight to a region's API: the router no longer sends clients to an isolated region. */
async function direct(apiUrl: string, route: string, body?: unknown) {
  const response = await fetch(`${apiUrl}${route}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json" },
    ...(body !== undefined && { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("a two-region MRSC table with a witness in the local cloud", () => {
  const theCloud = useCloud(0.05, { stack: STACK.file });
  afterAll(() => rmSync(path.dirname(STACK.file), { recursive: true, force: true }));

  const apiOf = (region: string) => theCloud().state().regions[region]?.api.url ?? "";
  const witnessUrl = () => theCloud().state().witness?.url ?? "";
  const calculation = (id: string, operands: string[] = ["2", "2"]) => ({ operation: "add", operands, id });

  /** The version of an item the witness holds, asked as a region asks it (the peer protocol's read). */
  async function witnessHolds(id: string): Promise<boolean> {
    const itemKey = { id: { S: id } };
    const response = await fetch(`${witnessUrl()}${PEER_PATH}read`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ op: "read", key: itemKeyText(TABLE_NAME, itemKey), itemKey }),
      signal: AbortSignal.timeout(10_000),
    });
    const answer = (await response.json()) as { item?: Record<string, unknown> };
    return answer.item !== undefined;
  }

  it(
    "runs the witness as a process of its own, outside the router, and acknowledges a write the witness holds",
    async () => {
      // Prepare
      const state = theCloud().state();

      // Act
      const written = await request(theCloud().routerUrl, {
        path: "/v1/calculations",
        targetRegion: FIRST,
        body: calculation("acknowledged-with-the-witness"),
      });
      const health = await fetch(`${witnessUrl()}/health`, { signal: AbortSignal.timeout(10_000) });
      await health.body?.cancel();

      // Assess
      expect(Object.keys(state.regions).sort()).toEqual([FIRST, SECOND].sort());
      expect(state.witness).toMatchObject({ region: WITNESS, faults: [] });
      expect(state.witness?.pid).toBeTypeOf("number");
      expect(state.processes.map((child) => child.name)).toContain(`${WITNESS} witness`);
      expect(written.status).toBe(201);
      expect(await witnessHolds("acknowledged-with-the-witness")).toBe(true);
      expect(health.status).toBe(404);
    },
    CASE_TIMEOUT_MS,
  );

  it(
    "acknowledges one of two concurrent writes of one key from the two regions",
    async () => {
      // Prepare
      const ids = Array.from({ length: CONCURRENT_PAIRS }, (_, index) => `written-from-both-${index}`);

      // Act
      const pairs = await Promise.all(
        ids.map((id) =>
          Promise.all([
            direct(apiOf(FIRST), "/v1/calculations", calculation(id, ["1", "1"])),
            direct(apiOf(SECOND), "/v1/calculations", calculation(id, ["2", "2"])),
          ]),
        ),
      );

      // Assess
      for (const pair of pairs) {
        expect(pair.map((answer) => answer.status).sort()).toEqual([201, 409]);
      }
    },
    CASE_TIMEOUT_MS,
  );

  it(
    "keeps one region writing through the witness while the other is cut off, which refuses and catches up after",
    async () => {
      // Prepare
      const before = await direct(apiOf(SECOND), "/v1/calculations", calculation("written-before-the-cut"));
      expect(before.status).toBe(201);

      // Act
      const fail = theCloud().cli("fail", SECOND, "--mode", "isolate");
      expect(fail.status, fail.stderr).toBe(0);
      const majoritySide = await direct(apiOf(FIRST), "/v1/calculations", calculation("written-through-the-witness"));
      const isolatedWrite = await direct(apiOf(SECOND), "/v1/calculations", calculation("written-in-isolation"));
      const isolatedRead = await direct(apiOf(SECOND), "/v1/calculations/written-before-the-cut");
      const isolatedHealth = await direct(apiOf(SECOND), "/health");
      const heldWhileCut = await regionsHolding(theCloud(), TABLE_NAME, "written-through-the-witness");
      const witnessHeld = await witnessHolds("written-through-the-witness");
      // The first region cut off too before the second rejoins: what it wrote meanwhile is then the witness's alone to give.
      const failFirst = theCloud().cli("fail", FIRST, "--mode", "isolate");
      expect(failFirst.status, failFirst.stderr).toBe(0);
      const restore = theCloud().cli("restore", SECOND);
      expect(restore.status, restore.stderr).toBe(0);
      const readAfter = await eventually(
        `${SECOND} reading, with the witness, the write it missed`,
        async () => {
          const read = await direct(apiOf(SECOND), "/v1/calculations/written-through-the-witness");
          return read.status === 200 ? read : undefined;
        },
        CATCH_UP_DEADLINE_MS,
        200,
      );
      const restoreFirst = theCloud().cli("restore", FIRST);
      expect(restoreFirst.status, restoreFirst.stderr).toBe(0);

      // Assess
      expect(majoritySide.status).toBe(201);
      expect(witnessHeld).toBe(true);
      expect(heldWhileCut).toEqual([FIRST]);
      expect(isolatedWrite.status).toBe(503);
      expect(isolatedWrite.body.type).toBe("urn:calcburst:problem:write-not-acknowledged");
      expect(await regionsHolding(theCloud(), TABLE_NAME, "written-in-isolation")).toEqual([]);
      expect(isolatedRead.status).toBe(503);
      expect(isolatedRead.body.type).toBe("urn:calcburst:problem:data-unavailable");
      expect(isolatedHealth.status).toBe(503);
      expect(String(isolatedHealth.body.detail)).toContain("cannot reach a majority");
      expect(readAfter.body).toMatchObject({ id: "written-through-the-witness", result: "4", region: FIRST });
      expect(await regionsHolding(theCloud(), TABLE_NAME, "written-through-the-witness")).toContain(SECOND);
    },
    CASE_TIMEOUT_MS,
  );

  it(
    "keeps both regions writing while the witness is cut off or restarting, catches the witness up after, and refuses faults it has no part for",
    async () => {
      // Prepare
      const refused = theCloud().cli("fail", WITNESS, "--mode", "health");
      const firstPid = theCloud().state().witness?.pid;

      // Act
      const isolate = theCloud().cli("fail", WITNESS, "--mode", "isolate");
      const whileCut = await Promise.all([
        direct(apiOf(FIRST), "/v1/calculations", calculation("written-while-the-witness-is-cut-off-1")),
        direct(apiOf(SECOND), "/v1/calculations", calculation("written-while-the-witness-is-cut-off-2")),
      ]);
      const rejoin = theCloud().cli("restore", WITNESS);
      const crash = theCloud().cli("fail", WITNESS, "--mode", "crash");
      const whileDown = await Promise.all([
        direct(apiOf(FIRST), "/v1/calculations", calculation("written-while-the-witness-restarts-1")),
        direct(apiOf(SECOND), "/v1/calculations", calculation("written-while-the-witness-restarts-2")),
      ]);
      const back = theCloud().cli("restore", WITNESS);

      // Assess
      expect(refused.status).toBe(2);
      expect(refused.stderr).toContain("the health fault does not apply to it; use --mode isolate or crash");
      for (const order of [isolate, rejoin, crash, back]) expect(order.status, order.stderr).toBe(0);
      expect(whileCut.map((answer) => answer.status)).toEqual([201, 201]);
      expect(whileDown.map((answer) => answer.status)).toEqual([201, 201]);
      const { witness } = theCloud().state();
      expect(witness?.pid).toBeTypeOf("number");
      expect(witness?.pid).not.toBe(firstPid);
      expect(witness?.faults).toEqual([]);
      // What it held before it was killed, it holds after: its versions are on disk.
      expect(await witnessHolds("acknowledged-with-the-witness")).toBe(true);
      // What the regions wrote without it, it copies from them once it is back.
      const missed = [1, 2].flatMap((n) => [
        `written-while-the-witness-is-cut-off-${n}`,
        `written-while-the-witness-restarts-${n}`,
      ]);
      const caughtUp = await eventually(
        "the witness holding what the regions wrote while it was cut off or restarting",
        async () => ((await Promise.all(missed.map(witnessHolds))).every(Boolean) ? true : undefined),
        CATCH_UP_DEADLINE_MS,
        200,
      );
      expect(caughtUp).toBe(true);
    },
    CASE_TIMEOUT_MS,
  );
});
