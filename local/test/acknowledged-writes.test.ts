import { PutItemCommand } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import type { BatchResponse } from "../../shared/responses.js";
import { TABLE_NAME } from "../cloud/cloud.js";
import { verifyCloud } from "../cloud/control-client.js";
import { localDynamoDbClient } from "../dynamodb/tables.js";
import { request, useCloud } from "./support/cloud.js";

// The product's central promise against the real local cloud: a write the API acknowledged is
// never replaced by another body in its region, and every region ends up holding the same data.
// Requests race through the router to one region (the same-region pairs) or to two regions (the
// cross-region pairs), then every region is read back once replication has caught up.

const [A, B] = ["us-east-1", "eu-west-1"] as const;
const PAIRS = 20;
const SETTLE_MS = 60_000;
/** A 503 means "not acknowledged, retry with the same key": clients here do, as the API asks. */
const RETRIES_AFTER_503 = 5;

type Kind = "single" | "batch";
interface Answer {
  status: number;
  result?: string | undefined;
}

const acknowledged = (answer: Answer) => answer.status === 200 || answer.status === 201;

describe("acknowledged writes under concurrent requests", () => {
  const cloud = useCloud(0.05);

  async function send(kind: Kind, region: string, id: string, operands: string[]): Promise<Answer> {
    let answer = await sendOnce(kind, region, id, operands);
    for (let retry = 0; answer.status === 503 && retry < RETRIES_AFTER_503; retry++) {
      answer = await sendOnce(kind, region, id, operands);
    }
    return answer;
  }

  async function sendOnce(kind: Kind, region: string, id: string, operands: string[]): Promise<Answer> {
    const calculation = { operation: "add", operands, id };
    if (kind === "single") {
      const answer = await request(cloud().routerUrl, {
        path: "/v1/calculations",
        targetRegion: region,
        body: calculation,
      });
      return { status: answer.status, result: answer.body.result as string | undefined };
    }
    const answer = await request(cloud().routerUrl, {
      path: "/v1/calculations/batch",
      targetRegion: region,
      body: { items: [calculation, { operation: "abs", operands: [operands[0]], id: `${id}-companion-${region}` }] },
    });
    const [contested] = (answer.body as unknown as BatchResponse).results ?? [];
    return {
      status: contested?.status ?? answer.status,
      result: contested !== undefined && "calculation" in contested ? contested.calculation.result : undefined,
    };
  }

  async function readEverywhere(id: string): Promise<Record<string, string | undefined>> {
    const copies: Record<string, string | undefined> = {};
    for (const region of [A, B]) {
      const answer = await request(cloud().routerUrl, { path: `/v1/calculations/${id}`, targetRegion: region });
      copies[region] = answer.status === 200 ? (answer.body.result as string) : `HTTP ${answer.status}`;
    }
    return copies;
  }

  async function settled() {
    const report = await verifyCloud(cloud().state(), SETTLE_MS);
    expect(report.divergent, JSON.stringify(report.divergent.slice(0, 3))).toEqual([]);
    expect(report.converged, report.reason ?? "").toBe(true);
    return report;
  }

  it.each<[Kind, Kind]>([
    ["single", "single"],
    ["single", "batch"],
    ["batch", "single"],
    ["batch", "batch"],
  ])("acknowledges one of %s vs %s in one region, and every region keeps that body", async (first, second) => {
    // Prepare
    const ids = Array.from({ length: PAIRS }, (_, i) => `same-region-${first}-${second}-${i}`);

    // Act: each pair leaves together, all pairs at once, half of them to each region.
    const outcomes = await Promise.all(
      ids.map(async (id, i) => {
        const region = i % 2 === 0 ? A : B;
        const [a, b] = await Promise.all([send(first, region, id, ["1", "2"]), send(second, region, id, ["10", "20"])]);
        return { id, a, b };
      }),
    );
    await settled();

    // Assess
    for (const { id, a, b } of outcomes) {
      const winners = [a, b].filter(acknowledged);
      expect(winners, `${id}: ${a.status} and ${b.status}`).toHaveLength(1);
      expect((acknowledged(a) ? b : a).status, id).toBe(409);
      const kept = winners[0]?.result;
      expect(await readEverywhere(id), id).toEqual({ [A]: kept, [B]: kept });
    }
  });

  it.each<[Kind, Kind]>([
    ["single", "single"],
    ["single", "batch"],
    ["batch", "batch"],
  ])("converges %s vs %s sent to two regions on one acknowledged body", async (first, second) => {
    // Prepare
    const ids = Array.from({ length: PAIRS }, (_, i) => `cross-region-${first}-${second}-${i}`);

    // Act
    const outcomes = await Promise.all(
      ids.map(async (id) => {
        const [inA, inB] = await Promise.all([send(first, A, id, ["1", "2"]), send(second, B, id, ["10", "20"])]);
        return { id, inA, inB };
      }),
    );
    await settled();

    // Assess: under MREC both regions may acknowledge; whatever both end up with was acknowledged.
    for (const { id, inA, inB } of outcomes) {
      const acknowledgedBodies = [inA, inB].filter(acknowledged).map((answer) => answer.result);
      expect(acknowledgedBodies.length, id).toBeGreaterThan(0);
      const copies = await readEverywhere(id);
      expect(copies[A], id).toBe(copies[B]);
      expect(acknowledgedBodies, id).toContain(copies[A]);
    }
  });

  it("keeps a calculation of 1000 operands readable and replayable in every region", async () => {
    // Prepare: an item far past the 8 KB at which DynamoDB Local answers in chunks.
    const body = {
      operation: "mean",
      operands: Array.from({ length: 1000 }, (_, i) => `${i}.5`),
      id: "a-thousand-operands",
    };

    // Act
    const created = await request(cloud().routerUrl, { path: "/v1/calculations", targetRegion: A, body });
    const replayed = await request(cloud().routerUrl, { path: "/v1/calculations", targetRegion: A, body });
    const conflicting = await request(cloud().routerUrl, {
      path: "/v1/calculations",
      targetRegion: A,
      body: { ...body, operation: "max" },
    });
    await settled();

    // Assess
    expect([created.status, replayed.status, conflicting.status]).toEqual([201, 200, 409]);
    expect(await readEverywhere("a-thousand-operands")).toEqual({ [A]: "500", [B]: "500" });
  });

  it("answers npm run local -- verify with exit 3, not a divergence, while a region is isolated", async () => {
    // Prepare
    expect(cloud().cli("fail", B, "--mode", "isolate").status).toBe(0);
    await send("single", A, "written-while-b-isolated", ["4", "5"]);

    // Act
    const paused = cloud().cli("verify", "--timeout", "10");
    expect(cloud().cli("restore", B).status).toBe(0);

    // Assess
    expect(paused.status, paused.stdout + paused.stderr).toBe(3);
    expect(paused.stdout).toMatch(/NOT VERIFIED: replication is paused while eu-west-1 is isolated/);
    expect(paused.stdout).not.toContain("DIVERGED");
    await settled();
  });

  it("answers npm run local -- verify with exit 0 when the regions agree, and exit 1 naming an item that differs", async () => {
    // Prepare: an item written into one region's DynamoDB Local past its data endpoint carries
    // no applied time, so the replicator cannot order it and leaves it where it is.
    const agreed = cloud().cli("verify");
    const endpoint = cloud().state().regions[A]?.dynamodb.endpoint ?? "";
    const client = localDynamoDbClient(endpoint, A);
    await client.send(
      new PutItemCommand({
        TableName: TABLE_NAME,
        Item: {
          id: { S: "written-past-the-endpoint" },
          operation: { S: "add" },
          operands: { L: [{ N: "1" }] },
          result: { N: "1" },
          region: { S: A },
          createdAt: { S: new Date().toISOString() },
          expiresAt: { N: String(Math.floor(Date.now() / 1000) + 3600) },
          requestHash: { S: "x" },
        },
      }),
    );
    client.destroy();

    // Act
    const diverged = cloud().cli("verify", "--timeout", "10");

    // Assess
    expect(agreed.status, agreed.stdout + agreed.stderr).toBe(0);
    expect(agreed.stdout).toMatch(/converged: \d+ items identical in us-east-1, eu-west-1/);
    expect(diverged.status, diverged.stdout + diverged.stderr).toBe(1);
    expect(diverged.stdout).toMatch(
      /DIVERGED: 1 of \d+ items still differ between regions after replication caught up/,
    );
    expect(diverged.stdout).toContain("written-past-the-endpoint");
    expect(diverged.stdout).toMatch(/eu-west-1\s+\(missing\)/);
  });
});
