import { beforeAll, describe, expect, it } from "vitest";
import type { BatchResponse } from "../../shared/responses.js";
import type { HttpResponse } from "../http.js";
import { type LoadedBundle, loadBundle } from "./support/bundle.js";
import { TEST_REGION, TEST_TABLE, useDynamoDbLocal } from "./support/dynamodb.js";
import { bodyOf, get, postJson } from "./support/events.js";

// Two requests with one id and different bodies, sent at the same moment to one region (one
// function instance, one real DynamoDB Local): exactly one may be acknowledged, in every
// pairing of single and batch, and what is stored is the acknowledged body.

const database = useDynamoDbLocal();
let bundle: LoadedBundle;

beforeAll(() => {
  bundle = loadBundle({ TABLE_NAME: TEST_TABLE, AWS_REGION: TEST_REGION, DYNAMODB_ENDPOINT: database.endpoint });
});

type Kind = "single" | "batch";
type Answer = { status: number; result?: string | undefined };
const PAIRS_PER_PAIRING = 20;
/** A 503 means "not acknowledged, retry with the same key": the clients here do, as the API asks. */
const RETRIES_AFTER_503 = 5;

async function send(kind: Kind, id: string, operands: number[]): Promise<Answer> {
  let answer = await sendOnce(kind, id, operands);
  for (let retry = 0; answer.status === 503 && retry < RETRIES_AFTER_503; retry++) {
    answer = await sendOnce(kind, id, operands);
  }
  return answer;
}

/** Sends one calculation as a single request or inside a batch; answers its status and result. */
async function sendOnce(kind: Kind, id: string, operands: number[]): Promise<Answer> {
  const calculation = { operation: "add", operands, id };
  if (kind === "single") {
    const response: HttpResponse = await bundle.handler(postJson("/v1/calculations", calculation));
    return { status: response.statusCode, result: bodyOf<{ result?: string }>(response).result };
  }
  // The contested item shares its batch with an uncontested one, as a real client's batch would.
  const response = await bundle.handler(
    postJson("/v1/calculations/batch", {
      items: [calculation, { operation: "add", operands: [1, 1], id: `${id}-companion-${operands[0]}` }],
    }),
  );
  const [contested] = bodyOf<BatchResponse>(response).results;
  return {
    status: contested?.status ?? 0,
    ...(contested !== undefined && "calculation" in contested && { result: contested.calculation.result }),
  };
}

const acknowledged = (status: number) => status === 200 || status === 201;

describe("concurrent writes of one id in one region", () => {
  it.each<[Kind, Kind]>([
    ["single", "single"],
    ["single", "batch"],
    ["batch", "single"],
    ["batch", "batch"],
  ])("acknowledges exactly one of %s vs %s, and keeps the acknowledged body", async (first, second) => {
    // Prepare
    const ids = Array.from({ length: PAIRS_PER_PAIRING }, (_, i) => `race-${first}-${second}-${i}`);

    // Act: each pair leaves together; the pairs run side by side.
    const outcomes = await Promise.all(
      ids.map(async (id) => {
        const [a, b] = await Promise.all([send(first, id, [1, 2]), send(second, id, [10, 20])]);
        const stored = bodyOf<{ result?: string }>(await bundle.handler(get(`/v1/calculations/${id}`))).result;
        return { id, a, b, stored };
      }),
    );

    // Assess
    for (const { id, a, b, stored } of outcomes) {
      const winners = [a, b].filter((answer) => acknowledged(answer.status));
      expect(winners, `${id}: ${a.status} and ${b.status}`).toHaveLength(1);
      const loser = acknowledged(a.status) ? b : a;
      expect(loser.status, id).toBe(409);
      expect(stored, id).toBe(winners[0]?.result);
    }
  });
});
