import { type AttributeValue, ScanCommand } from "@aws-sdk/client-dynamodb";
import Decimal from "decimal.js";
import { TABLE } from "../../shared/table.js";
import { canonicalJson, isTombstone, type Stamp, stampOf, type WireItem, type WireValue } from "../data/stamps.js";
import { localDynamoDbClient } from "../dynamodb/tables.js";
import type { ReplicationStatus } from "./replicator.js";

/**
 * The convergence check of the local global table (`npm run local -- verify`): once replication
 * has caught up, every region must hold the same items, to the last attribute and stamp.
 */

/** How long a change may take to appear in DynamoDB Local's stream after it was acknowledged. */
export const STREAM_SETTLE_MS = 500;
const POLL_MS = 50;

export interface ReplicaScan {
  region: string;
  /** Live items by id (the health sentinel, expired items and tombstones left out), raw, stamps included. */
  items: Map<string, WireItem>;
}

/** One id whose regions disagree: what each region holds, or null where it holds nothing live. */
export interface Divergence {
  id: string;
  copies: Record<string, { stamp: Stamp | null; summary: string } | null>;
}

/**
 * An attribute value in one form per meaning: a Number by its value (DynamoDB keeps `1.50` as sent
 * through UpdateItem but streams it as `1.5`), a set in sorted order (sets have none).
 */
function normalised(value: WireValue): unknown {
  const number = (text: string) => new Decimal(text).toString();
  if (value.N !== undefined) return { N: number(value.N) };
  if (Array.isArray(value.NS)) return { NS: (value.NS as string[]).map(number).sort() };
  if (Array.isArray(value.SS)) return { SS: [...(value.SS as string[])].sort() };
  if (Array.isArray(value.BS)) return { BS: [...(value.BS as string[])].sort() };
  if (value.L !== undefined) return { L: value.L.map(normalised) };
  if (value.M !== undefined) return { M: normalisedItem(value.M) };
  return value;
}

function normalisedItem(item: WireItem): Record<string, unknown> {
  return Object.fromEntries(Object.entries(item).map(([name, value]) => [name, normalised(value)]));
}

/** One text per item meaning: attributes in name order, values normalised. */
const canonical = (item: WireItem) => canonicalJson(normalisedItem(item));

/** A short human description of an item: its operation, operands and result. */
function summary(item: WireItem): string {
  const operands = (item.operands?.L ?? []).map((operand) => operand.N ?? "?").join(", ");
  return `${item.operation?.S ?? "?"}(${operands}) = ${item.result?.N ?? "?"}, written in ${item.region?.S ?? "?"}`;
}

/** The ids on which the replicas disagree (a missing copy counts), in id order. */
export function compareReplicas(replicas: readonly ReplicaScan[]): Divergence[] {
  const ids = new Set(replicas.flatMap((replica) => [...replica.items.keys()]));
  const divergent: Divergence[] = [];
  for (const id of [...ids].sort()) {
    const versions = replicas.map((replica) => replica.items.get(id));
    const forms = new Set(versions.map((item) => (item === undefined ? "" : canonical(item))));
    if (forms.size === 1) continue;
    divergent.push({
      id,
      copies: Object.fromEntries(
        replicas.map((replica, index) => {
          const item = versions[index];
          return [replica.region, item === undefined ? null : { stamp: stampOf(item) ?? null, summary: summary(item) }];
        }),
      ),
    });
  }
  return divergent;
}

/** Every live item of one region's table, read from its DynamoDB Local (consistent reads). */
export async function scanReplica(
  replica: { region: string; endpoint: string; tableName: string },
  nowMs: number,
  timeoutMs = 30_000,
): Promise<ReplicaScan> {
  const client = localDynamoDbClient(replica.endpoint, replica.region, { maxAttempts: 3 });
  const items = new Map<string, WireItem>();
  try {
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await client.send(
        new ScanCommand({ TableName: replica.tableName, ConsistentRead: true, ExclusiveStartKey: start }),
        { abortSignal: AbortSignal.timeout(timeoutMs) },
      );
      for (const raw of page.Items ?? []) {
        const item = raw as unknown as WireItem;
        const id = item.id?.S;
        // A tombstone is the replicator's memory of a deletion (tombstones.ts), absent for the API.
        if (id === undefined || id === TABLE.sentinelId || isTombstone(item)) continue;
        // Past its TTL an item is gone for the API, whenever each region's TTL gets round to deleting it.
        if (Number(item[TABLE.ttlAttribute]?.N) * 1000 <= nowMs) continue;
        items.set(id, item);
      }
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
  } finally {
    client.destroy();
  }
  return { region: replica.region, items };
}

export interface ConvergenceOptions {
  replicas: { region: string; endpoint: string; tableName: string }[];
  /** The replicator's `GET /status`. */
  replicationStatus: () => Promise<ReplicationStatus>;
  /**
   * What else is still copying writes between the regions (an MRSC region catching up after a
   * fault), by name; waited for like a replication pair.
   */
  catchingUp?: () => Promise<string[]>;
  timeoutMs: number;
  progress?: (line: string) => void;
}

export interface ConvergenceReport {
  /**
   * converged: every region holds the same items. diverged: items still differed after
   * replication had caught up, unchanged. not-verified: the check could not conclude (`reason`).
   */
  outcome: "converged" | "diverged" | "not-verified";
  converged: boolean;
  /** Ids compared in the last round (live in at least one region). */
  compared: number;
  /**
   * diverged: the ids that stayed different. not-verified: the ids that differed when it gave up
   * (in flight or diverged: it cannot tell).
   */
  divergent: Divergence[];
  /** Why the check could not conclude, when it could not. */
  reason: string | null;
  rounds: number;
  elapsedMs: number;
}

const describe = (error: unknown) =>
  error instanceof Error && error.name === "AbortError"
    ? "no answer in time"
    : error instanceof Error
      ? error.message
      : String(error);

/**
 * Waits until every replication pair has caught up with what was written before the check
 * started, then compares every region's items. A difference that a later caught-up round no
 * longer shows was in flight; one that survives a caught-up round unchanged is divergence.
 * A paused pair (an isolated region), an unreadable table or a silent replicator cannot be
 * waited out: the check says so. It takes about `timeoutMs` at most.
 */
export async function verifyConvergence(options: ConvergenceOptions): Promise<ConvergenceReport> {
  const progress = options.progress ?? (() => undefined);
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  let previous = new Map<string, string>();
  let compared = 0;
  for (let round = 1; ; round++) {
    const finish = (outcome: ConvergenceReport["outcome"], reason: string | null, divergent: Divergence[]) => ({
      outcome,
      converged: outcome === "converged",
      compared,
      divergent,
      reason,
      rounds: round,
      elapsedMs: Date.now() - started,
    });
    const mark = new Date(Date.now() + STREAM_SETTLE_MS).toISOString();
    let reason: string | null = null;
    for (;;) {
      let behind: string[];
      try {
        const { pairs, isolated } = await options.replicationStatus();
        if (isolated.length > 0) {
          reason = `replication is paused while ${isolated.join(", ")} ${isolated.length === 1 ? "is" : "are"} isolated: restore first (npm run local -- restore <region>)`;
          break;
        }
        behind = pairs
          .filter((pair) => pair.caughtUpAt === null || pair.caughtUpAt < mark)
          .map((pair) => `${pair.source} → ${pair.target}${pair.lastError ? `: ${pair.lastError}` : ""}`);
        if (options.catchingUp !== undefined) behind.push(...(await options.catchingUp()));
      } catch (error) {
        behind = [`the replicator does not answer (${describe(error)})`];
      }
      if (behind.length === 0) break;
      if (Date.now() > deadline) {
        reason = `replication did not catch up within ${options.timeoutMs / 1000} s (${behind.join("; ")})`;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    // A frozen table accepts the connection and never answers: the scan gets what time is left.
    const now = Date.now();
    const scanTimeoutMs = Math.max(1000, deadline - now);
    const scans = await Promise.allSettled(options.replicas.map((replica) => scanReplica(replica, now, scanTimeoutMs)));
    const unread = scans.flatMap((scan, index) =>
      scan.status === "rejected"
        ? [`${options.replicas[index]?.region}'s table could not be read (${describe(scan.reason)})`]
        : [],
    );
    if (unread.length > 0) return finish("not-verified", [reason, ...unread].filter(Boolean).join("; "), []);
    const read = scans.map((scan) => (scan as PromiseFulfilledResult<ReplicaScan>).value);
    compared = new Set(read.flatMap((scan) => [...scan.items.keys()])).size;
    const divergent = compareReplicas(read);
    if (divergent.length === 0)
      return reason === null ? finish("converged", null, []) : finish("not-verified", reason, []);
    if (reason !== null) return finish("not-verified", reason, divergent);
    const signatures = new Map(divergent.map((one) => [one.id, canonicalJson(one.copies)]));
    const persistent = divergent.filter((one) => previous.get(one.id) === signatures.get(one.id));
    progress(
      `round ${round}: ${compared} items compared, ${divergent.length} differ${round > 1 ? ` (${persistent.length} unchanged since the last caught-up round)` : ""}`,
    );
    if (round > 1 && persistent.length === divergent.length) return finish("diverged", null, persistent);
    if (Date.now() > deadline) {
      return persistent.length > 0
        ? finish("diverged", null, persistent)
        : finish("not-verified", `writes kept arriving until the ${options.timeoutMs / 1000} s deadline`, divergent);
    }
    previous = signatures;
  }
}
