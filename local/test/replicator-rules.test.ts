import { DeleteItemCommand } from "@aws-sdk/client-dynamodb";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatMicros, isTombstone, type Stamp, stampMicros, stampOf, type WireItem } from "../data/stamps.js";
import { localDynamoDbClient } from "../dynamodb/tables.js";
import { STREAM_SETTLE_MS } from "../replicator/convergence.js";
import { deletionSupersedes, supersedes } from "../replicator/resolve.js";
import { tombstoneItem } from "../replicator/tombstones.js";
import { at, calculationItem, put, removal, stamped, useReplicaHarness } from "./support/replicas.js";

// The local global table's conflict rule and ordering, applied by the real replicator code to a
// real DynamoDB Local: the applied time decides, a tie goes to the higher region name, a deletion
// leaves a tombstone that an older write loses to and a later one replaces, and one item's
// changes are applied in the source's order.

const [A, B] = ["us-east-1", "eu-west-1"] as const;
const harness = useReplicaHarness([A, B]);

const resultIn = async (region: string, id: string) => (await harness.raw(region, id))?.result?.N;
/** What a replica holds of an item: a live version's result, a tombstone's stamp, or nothing. */
const heldIn = async (region: string, id: string) => {
  const item = await harness.raw(region, id);
  if (item === undefined) return undefined;
  const stamp = stampOf(item);
  return isTombstone(item)
    ? { tombstone: `${stampMicros(stamp?.time ?? "0")}@${stamp?.region}` }
    : { result: item.result?.N };
};
/** A tombstone as the replicator writes it. */
const tombstoneFor = (id: string, stamp: Stamp) => tombstoneItem({ id: { S: id } }, stamp) as unknown as WireItem;
const tombstoneOf = (stamp: Stamp) => ({ tombstone: `${stampMicros(stamp.time)}@${stamp.region}` });

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

  it("agrees with supersedes() on any two stamps, a held tombstone's included, as DynamoDB evaluates the condition", async () => {
    const pair = harness.pair(A, B);
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1_700_000_000_000_000, max: 1_700_000_000_000_050 }),
        fc.integer({ min: 1_700_000_000_000_000, max: 1_700_000_000_000_050 }),
        fc.constantFrom("eu-west-1", "us-east-1", "ap-southeast-2"),
        fc.boolean(),
        async (heldMicros, incomingMicros, heldRegion, heldTombstone) => {
          // Prepare
          const id = `agree-${run++}`;
          const held = { time: formatMicros(heldMicros), region: heldRegion };
          const incoming = { time: formatMicros(incomingMicros), region: A };
          await harness.putRaw(
            B,
            heldTombstone ? tombstoneFor(id, held) : stamped(calculationItem(id, "0", heldRegion), held),
          );

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

  it("leaves the deleted version's tombstone in the target and in the source, and never takes a later write", async () => {
    // Prepare: A's TTL deleted a version (A holds nothing now), which B holds; B holds a later
    // version of another item than the one A deleted.
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
    const tombstone = tombstoneOf(at(2_200_000_000, A));
    expect(own).toBe("applied");
    expect([await heldIn(B, "delete-own-version"), await heldIn(A, "delete-own-version")]).toEqual([
      tombstone,
      tombstone,
    ]);
    expect([newer, await heldIn(B, "delete-newer-kept")]).toEqual(["superseded", { result: "2" }]);
  });

  it("refuses a write applied before a deleted version, in the region that deleted it and in the other", async () => {
    // Prepare: B wrote a version at t=2300 (and A received it); B's TTL then deleted it.
    const deleted = stamped(calculationItem("older-loses", "5", B), at(2_300_000_000, B));
    await harness.putRaw(A, deleted);
    const fromB = harness.pair(B, A);
    const fromA = harness.pair(A, B);
    const removed = await fromB.apply(removal(deleted));

    // Act: writes applied at t=2299 in either region arrive only now.
    const intoB = await fromA.apply(put(stamped(calculationItem("older-loses", "1", A), at(2_299_000_000, A))));
    const intoA = await fromB.apply(put(stamped(calculationItem("older-loses", "2", B), at(2_299_000_000, B))));

    // Assess: the deletion wins in both replicas, as the bug's interleaving needed.
    const tombstone = tombstoneOf(at(2_300_000_000, B));
    expect([removed, intoB, intoA]).toEqual(["applied", "superseded", "superseded"]);
    expect([await heldIn(A, "older-loses"), await heldIn(B, "older-loses")]).toEqual([tombstone, tombstone]);
  });

  it("lets a write applied after the deleted version replace its tombstone, replicated or through the endpoint", async () => {
    // Prepare: tombstones in B, one stamped a minute ahead of B's clock.
    const ahead = Math.floor(Date.now() / 1000) + 60;
    await harness.putRaw(B, tombstoneFor("replaced-by-replica", at(2_400_000_000, A)));
    await harness.putRaw(B, tombstoneFor("replaced-by-function", at(ahead, A)));

    // Act
    const replicated = await harness
      .pair(A, B)
      .apply(put(stamped(calculationItem("replaced-by-replica", "6", A), at(2_400_000_001, A))));
    const written = await harness.writeAsFunction(B, calculationItem("replaced-by-function", "7", B));

    // Assess: the function's write takes the key, stamped after the tombstone (the endpoint's guard).
    expect([replicated, await heldIn(B, "replaced-by-replica")]).toEqual(["applied", { result: "6" }]);
    const stored = await harness.raw(B, "replaced-by-function");
    expect([written, stored?.result?.N, isTombstone(stored)]).toEqual([true, "7", false]);
    expect(stampMicros(stampOf(stored)?.time ?? "0")).toBeGreaterThan(stampMicros(at(ahead, A).time));
  });

  it("agrees with deletionSupersedes() on any deletion and any held version or tombstone", async () => {
    const pair = harness.pair(A, B);
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1_700_000_000_000_000, max: 1_700_000_000_000_020 }),
        fc.integer({ min: 1_700_000_000_000_000, max: 1_700_000_000_000_020 }),
        fc.constantFrom("eu-west-1", "us-east-1"),
        fc.constantFrom("eu-west-1", "us-east-1"),
        fc.constantFrom("version", "tombstone", "nothing"),
        async (heldMicros, deletedMicros, heldRegion, deletedRegion, heldKind) => {
          // Prepare
          const id = `agree-delete-${run++}`;
          const held = { time: formatMicros(heldMicros), region: heldRegion };
          const deleted = { time: formatMicros(deletedMicros), region: deletedRegion };
          if (heldKind === "version") await harness.putRaw(B, stamped(calculationItem(id, "0", heldRegion), held));
          if (heldKind === "tombstone") await harness.putRaw(B, tombstoneFor(id, held));

          // Act
          const outcome = await pair.apply(removal(stamped(calculationItem(id, "1", deletedRegion), deleted)));

          // Assess
          const current = heldKind === "nothing" ? undefined : { stamp: held, tombstone: heldKind === "tombstone" };
          const wins = deletionSupersedes(deleted, current);
          expect(outcome).toBe(wins ? "applied" : "superseded");
          const kept = await harness.raw(B, id);
          const expected = wins ? { stamp: deleted, tombstone: true } : current;
          expect([stampMicros(stampOf(kept)?.time ?? "0"), stampOf(kept)?.region, isTombstone(kept)]).toEqual([
            stampMicros(expected?.stamp.time ?? "0"),
            expected?.stamp.region,
            expected?.tombstone,
          ]);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("lands the later deletion whichever of two pairs racing on one replica writes first", async () => {
    // Prepare: for each id, B's TTL deleted a version applied at t=2500, and A's write applied at
    // t=2499 is on its way to B: the pair B→A writes the tombstone into B (its source) while the
    // pair A→B puts the older write into B (its target), at the same moment.
    const ids = Array.from({ length: 20 }, (_, index) => `race-${index}`);
    const fromA = harness.pair(A, B);
    const fromB = harness.pair(B, A);

    // Act: half the time the older write is sent first.
    const outcomes = await Promise.all(
      ids.map((id, index) => {
        const deletion = () => fromB.apply(removal(stamped(calculationItem(id, "5", B), at(2_500_000_000, B))));
        const older = () => fromA.apply(put(stamped(calculationItem(id, "1", A), at(2_499_000_000, A))));
        if (index % 2 === 0) return Promise.all([deletion(), older()]);
        const [first, second] = [older(), deletion()];
        return Promise.all([second, first]);
      }),
    );

    // Assess
    const tombstone = tombstoneOf(at(2_500_000_000, B));
    for (const [index, id] of ids.entries()) {
      expect([await heldIn(B, id), await heldIn(A, id)], id).toEqual([tombstone, tombstone]);
      expect(outcomes[index]?.[0], id).toBe("applied");
    }
  });

  it("passes over echoes, unstamped writes, the health sentinel and tombstones written or removed", async () => {
    const pair = harness.pair(A, B);
    const now = Math.floor(Date.now() / 1000);
    const tombstone = tombstoneFor("tombstone-change", at(now, A));

    const echo = await pair.apply(put(stamped(calculationItem("echoed", "1", B), at(now, B))));
    const unstamped = await pair.apply(put(calculationItem("unstamped", "1", A)));
    const sentinel = await pair.apply(put({ id: { S: "#health-sentinel" } }));
    const written = await pair.apply(put(tombstone));
    const removed = await pair.apply(removal(tombstone));

    expect([echo, unstamped, sentinel, written, removed]).toEqual([
      "echo",
      "unstamped",
      "sentinel",
      "tombstone",
      "tombstone",
    ]);
    expect(await harness.raw(B, "echoed")).toBeUndefined();
    expect(await harness.raw(B, "unstamped")).toBeUndefined();
    expect(await harness.raw(B, "tombstone-change")).toBeUndefined();
  });
});

describe("the replicator's ordering", () => {
  it("applies one item's changes in the source's stream order: a write and then its deletion leave its tombstone", async () => {
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
    const inA = await harness.scan(A);
    for (const id of ids.slice(0, 20))
      expect([isTombstone(inB.get(id)), isTombstone(inA.get(id))], id).toEqual([true, true]);
    for (const id of ids.slice(20)) expect(inB.get(id)?.result?.N, id).toBe("7");
  });
});
