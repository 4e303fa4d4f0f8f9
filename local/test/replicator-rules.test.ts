import { DeleteItemCommand } from "@aws-sdk/client-dynamodb";
import type { _Record as StreamRecord } from "@aws-sdk/client-dynamodb-streams";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { REPLICATION_STAMP } from "../../shared/table.js";
import { formatMicros, type Stamp, stampMicros, stampOf, type WireItem } from "../data/stamps.js";
import { localDynamoDbClient } from "../dynamodb/tables.js";
import { STREAM_SETTLE_MS } from "../replicator/convergence.js";
import { supersedes } from "../replicator/resolve.js";
import { calculationItem, useReplicaHarness } from "./support/replicas.js";

// The local global table's conflict rule and ordering, applied by the real replicator code to a
// real DynamoDB Local: the applied time decides, a tie goes to the higher region name, a deletion
// removes only its own version, and one item's changes are applied in the source's order.

const [A, B] = ["us-east-1", "eu-west-1"] as const;
const harness = useReplicaHarness([A, B]);

const stamped = (item: WireItem, stamp: Stamp): WireItem => ({
  ...item,
  [REPLICATION_STAMP.time]: { N: stamp.time },
  [REPLICATION_STAMP.region]: { S: stamp.region },
});
const put = (image: WireItem): StreamRecord => ({
  eventName: "INSERT",
  dynamodb: { Keys: { id: image.id as never }, NewImage: image as never },
});
const removal = (image: WireItem): StreamRecord => ({
  eventName: "REMOVE",
  dynamodb: { Keys: { id: image.id as never }, OldImage: image as never },
});
const at = (seconds: number, region: string): Stamp => ({ time: formatMicros(seconds * 1_000_000), region });
const resultIn = async (region: string, id: string) => (await harness.raw(region, id))?.result?.N;

describe("the replicator's conflict rule", () => {
  it("puts a write applied later over the one a replica holds, and refuses one applied earlier", async () => {
    // Prepare: B holds a version applied at t=2000.
    await harness.putRaw(B, stamped(calculationItem("later-wins", "2", B), at(2_000_000_000, B)));
    const pair = harness.pair(A, B);

    // Act
    const earlier = await pair.apply(put(stamped(calculationItem("later-wins", "1", A), at(1_999_999_999, A))));
    const held = await resultIn(B, "later-wins");
    const later = await pair.apply(put(stamped(calculationItem("later-wins", "3", A), at(2_000_000_001, A))));

    // Assess
    expect([earlier, held]).toEqual(["superseded", "2"]);
    expect([later, await resultIn(B, "later-wins")]).toEqual(["applied", "3"]);
  });

  it("breaks a tie of equal applied times by the higher region name, the same way in both directions", async () => {
    // Prepare: each region holds its own write, applied at the same microsecond.
    const same = 2_100_000_000;
    const inA = stamped(calculationItem("tie", "1", A), at(same, A));
    const inB = stamped(calculationItem("tie", "2", B), at(same, B));
    await harness.putRaw(A, inA);
    await harness.putRaw(B, inB);

    // Act
    const intoB = await harness.pair(A, B).apply(put(inA));
    const intoA = await harness.pair(B, A).apply(put(inB));

    // Assess: us-east-1 > eu-west-1, so A's write wins in both replicas.
    expect([intoB, intoA]).toEqual(["applied", "superseded"]);
    expect([await resultIn(A, "tie"), await resultIn(B, "tie")]).toEqual(["1", "1"]);
  });

  it("agrees with supersedes() on any two stamps, as DynamoDB evaluates the condition", async () => {
    const pair = harness.pair(A, B);
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1_700_000_000_000_000, max: 1_700_000_000_000_050 }),
        fc.integer({ min: 1_700_000_000_000_000, max: 1_700_000_000_000_050 }),
        fc.constantFrom("eu-west-1", "us-east-1", "ap-southeast-2"),
        async (heldMicros, incomingMicros, heldRegion) => {
          // Prepare
          const id = `agree-${run++}`;
          const held = { time: formatMicros(heldMicros), region: heldRegion };
          const incoming = { time: formatMicros(incomingMicros), region: A };
          await harness.putRaw(B, stamped(calculationItem(id, "0", heldRegion), held));

          // Act
          const outcome = await pair.apply(put(stamped(calculationItem(id, "1", A), incoming)));

          // Assess
          expect(outcome).toBe(supersedes(incoming, held) ? "applied" : "superseded");
          const kept = stampOf(await harness.raw(B, id));
          const winner = supersedes(incoming, held) ? incoming : held;
          expect([stampMicros(kept?.time ?? "0"), kept?.region]).toEqual([stampMicros(winner.time), winner.region]);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("removes only the version that was deleted, never a later write", async () => {
    // Prepare
    const deleted = stamped(calculationItem("delete-own-version", "1", A), at(2_200_000_000, A));
    await harness.putRaw(B, deleted);
    await harness.putRaw(B, stamped(calculationItem("delete-newer-kept", "2", B), at(2_200_000_005, B)));
    const pair = harness.pair(A, B);

    // Act
    const own = await pair.apply(removal(deleted));
    const newer = await pair.apply(
      removal(stamped(calculationItem("delete-newer-kept", "1", A), at(2_200_000_000, A))),
    );

    // Assess
    expect([own, await harness.raw(B, "delete-own-version")]).toEqual(["applied", undefined]);
    expect([newer, await resultIn(B, "delete-newer-kept")]).toEqual(["superseded", "2"]);
  });

  it("passes over echoes, unstamped writes and the health sentinel", async () => {
    const pair = harness.pair(A, B);
    const now = Math.floor(Date.now() / 1000);

    const echo = await pair.apply(put(stamped(calculationItem("echoed", "1", B), at(now, B))));
    const unstamped = await pair.apply(put(calculationItem("unstamped", "1", A)));
    const sentinel = await pair.apply(put({ id: { S: "#health-sentinel" } }));

    expect([echo, unstamped, sentinel]).toEqual(["echo", "unstamped", "sentinel"]);
    expect(await harness.raw(B, "echoed")).toBeUndefined();
    expect(await harness.raw(B, "unstamped")).toBeUndefined();
  });
});

describe("the replicator's ordering", () => {
  it("applies one item's changes in the source's stream order: a write and then its deletion leave nothing", async () => {
    // Prepare: in A, 40 items are written and 20 of them deleted again, through A's endpoint.
    const ids = Array.from({ length: 40 }, (_, i) => `ordered-${i}`);
    for (const id of ids) expect(await harness.writeAsFunction(A, calculationItem(id, "7", A))).toBe(true);
    // The deletions go past the endpoint, as DynamoDB's TTL deletes do.
    const client = localDynamoDbClient(harness.database.endpoint, A);
    for (const id of ids.slice(0, 20)) {
      await client.send(new DeleteItemCommand({ TableName: harness.regions[A]?.tableName, Key: { id: { S: id } } }));
    }
    client.destroy();
    // Caught up means a poll that began after the last change could have reached the stream found nothing new.
    const started = new Date(Date.now() + STREAM_SETTLE_MS).toISOString();

    // Act: the pair reads A's real stream and applies it, many items side by side.
    const pair = harness.pair(A, B);
    const running = pair.run();
    const deadline = Date.now() + 60_000;
    while ((pair.status().caughtUpAt ?? "") < started && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    pair.stop();
    await running;

    // Assess
    const inB = await harness.scan(B);
    for (const id of ids.slice(0, 20)) expect(inB.has(id), id).toBe(false);
    for (const id of ids.slice(20)) expect(inB.get(id)?.result?.N, id).toBe("7");
  });
});
