import type { _Record as StreamRecord } from "@aws-sdk/client-dynamodb-streams";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TABLE } from "../../shared/table.js";
import type { WireItem } from "../data/stamps.js";
import { compareReplicas } from "../replicator/convergence.js";
import type { PairReplicator } from "../replicator/replicator.js";
import { calculationItem, useReplicaHarness } from "./support/replicas.js";

// Random interleavings of writes in two regions (the function's conditional ones and a hand-made
// client's unconditional ones, all through the data endpoints) with the replication of each
// region's changes to the other (in stream order, but at any moment, and re-offered as after a
// replicator crash), run on the real data endpoints, the real replicator code and a real
// DynamoDB Local. Whatever the interleaving, once every change has been delivered both regions
// hold the same live items.

const [A, B] = ["us-east-1", "eu-west-1"] as const;
const other = (region: string): string => (region === A ? B : A);
const harness = useReplicaHarness([A, B]);

type Step =
  | { kind: "write"; region: string; key: number; value: number; expired: boolean; unconditional: boolean }
  | { kind: "deliver"; from: string }
  | { kind: "redeliver"; from: string };

const region = fc.constantFrom(A, B);
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant("write" as const),
    region,
    key: fc.integer({ min: 0, max: 2 }),
    value: fc.integer({ min: 1, max: 9 }),
    // An item written already expired may be overwritten by the next write of its key.
    expired: fc.boolean(),
    // A hand-made client's unconditional put, through the same endpoint.
    unconditional: fc.boolean(),
  }),
  fc.record({ kind: fc.constant("deliver" as const), from: region }),
  fc.record({ kind: fc.constant("redeliver" as const), from: region }),
);

const change = (image: WireItem): StreamRecord => ({
  eventName: "MODIFY",
  dynamodb: { Keys: { id: image.id as never }, NewImage: image as never },
});

const live = (items: Map<string, WireItem>, prefix: string, nowMs: number) =>
  new Map(
    [...items].filter(([id, item]) => id.startsWith(prefix) && Number(item[TABLE.ttlAttribute]?.N) * 1000 > nowMs),
  );

describe("replication under random interleavings", () => {
  it("always converges both regions on the same live items", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 24 }), async (steps) => {
        // Prepare: each run has its own keys; each direction its stream (a queue) and replicator.
        const prefix = `interleaving-${run++}-`;
        const streams = new Map<string, StreamRecord[]>([
          [A, []],
          [B, []],
        ]);
        const lastDelivered = new Map<string, StreamRecord>();
        const pairs = new Map<string, PairReplicator>([
          [A, harness.pair(A, B)],
          [B, harness.pair(B, A)],
        ]);
        const offer = async (from: string, record: StreamRecord) => {
          const to = other(from);
          const outcome = await pairs.get(from)?.apply(record);
          // What the replicator applied is a change in the target's own stream (an echo there).
          const id = record.dynamodb?.Keys?.id?.S ?? "";
          const image = outcome === "applied" ? await harness.raw(to, id) : undefined;
          if (image !== undefined) streams.get(to)?.push(change(image));
        };
        const deliver = async (from: string) => {
          const record = streams.get(from)?.shift();
          if (record === undefined) return;
          lastDelivered.set(from, record);
          await offer(from, record);
        };

        // Act
        for (const next of steps) {
          if (next.kind === "write") {
            const id = `${prefix}${next.key}`;
            const expiresAt = next.expired ? Math.floor(Date.now() / 1000) - 60 : undefined;
            const item = calculationItem(id, String(next.value), next.region, expiresAt);
            const applied = next.unconditional
              ? await harness.overwrite(next.region, item).then(() => true)
              : await harness.writeAsFunction(next.region, item);
            if (applied) {
              const image = await harness.raw(next.region, id);
              if (image !== undefined) streams.get(next.region)?.push(change(image));
            }
          } else if (next.kind === "deliver") {
            await deliver(next.from);
          } else {
            const record = lastDelivered.get(next.from);
            if (record !== undefined) await offer(next.from, record);
          }
        }
        while ((streams.get(A)?.length ?? 0) + (streams.get(B)?.length ?? 0) > 0) {
          await deliver(A);
          await deliver(B);
        }

        // Assess
        const now = Date.now();
        const divergent = compareReplicas([
          { region: A, items: live(await harness.scan(A), prefix, now) },
          { region: B, items: live(await harness.scan(B), prefix, now) },
        ]);
        expect(divergent, JSON.stringify({ steps, divergent })).toEqual([]);
      }),
      { numRuns: 40 },
    );
  }, 180_000);
});
