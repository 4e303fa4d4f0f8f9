import type { Probe } from "../../shared/drill-report.js";
import type { DrillTarget } from "./target.js";

/** An acknowledged write: what the drill promises a client it will find again, unchanged. */
export interface LedgerEntry {
  id: string;
  region: string;
  ackedMs: number;
  /** The result the client was given. */
  result: unknown;
}

export const resultOf = (body: unknown): unknown =>
  typeof body === "object" && body !== null && "result" in body ? body.result : undefined;

export const isSuccess = (status: number) => status >= 200 && status < 300;
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface DrillTraffic {
  probes: Probe[];
  ledger: LedgerEntry[];
  /** Stops sending and resolves once every request sent has its answer. */
  stop(): Promise<void>;
}

/**
 * Steady writes from every client location through the global entry point, each acknowledged one
 * in the ledger. Open loop: each location sends on its cadence whatever the previous request is
 * doing, as independent clients would; a hung region does not slow the probes down.
 */
export function startWrites(
  target: DrillTarget,
  options: { runId: string; clock: () => number; intervalMs?: number },
): DrillTraffic {
  const { clock } = options;
  const intervalMs = options.intervalMs ?? target.probeIntervalMs;
  const probes: Probe[] = [];
  const ledger: LedgerEntry[] = [];
  const pending = new Set<Promise<void>>();
  let sequence = 0;
  let sending = true;
  const senders = target.locations.map(async (location) => {
    while (sending) {
      const id = `drill-${options.runId}-${location}-${sequence++}`;
      const sentMs = clock();
      const request = target.write(location, id, { operation: "add", operands: [sequence, 1] }).then((answer) => {
        const endedMs = clock();
        probes.push({ sentMs, endedMs, location, status: answer.status, region: answer.region });
        if (isSuccess(answer.status) && answer.region !== null)
          ledger.push({ id, region: answer.region, ackedMs: endedMs, result: resultOf(answer.body) });
      });
      pending.add(request);
      void request.finally(() => pending.delete(request));
      await sleep(intervalMs);
    }
  });
  return {
    probes,
    ledger,
    stop: async () => {
      sending = false;
      await Promise.all(senders);
      await Promise.all([...pending]);
    },
  };
}

/** How often a long read-back (thousands of writes on a loaded machine) says where it is. */
const VERIFY_PROGRESS_EVERY_MS = 5000;

/**
 * How many read-backs are in flight at once. One at a time, a drill of a thousand writes in three
 * regions spent half a minute reading them back; a few at a time keep DynamoDB Local busy without
 * queueing behind the region APIs' concurrency.
 */
const READ_BACK_CONCURRENCY = 8;

/** The acknowledged writes some region does not hold with the result its client was given. */
export async function missingAcknowledged(
  target: DrillTarget,
  ledger: readonly LedgerEntry[],
  progress: (line: string) => void = () => undefined,
): Promise<string[]> {
  const missing = new Set<string>();
  const startedAt = Date.now();
  let lastProgressAt = startedAt;
  let next = 0;
  let checked = 0;
  const reader = async () => {
    while (next < ledger.length) {
      const entry = ledger[next++] as LedgerEntry;
      for (const one of target.regions) {
        const answer = await target.read(one, entry.id);
        if (answer.status !== 200 || resultOf(answer.body) !== entry.result) {
          missing.add(entry.id);
          break;
        }
      }
      checked += 1;
      if (Date.now() - lastProgressAt >= VERIFY_PROGRESS_EVERY_MS) {
        lastProgressAt = Date.now();
        progress(
          `verifying: ${checked} of ${ledger.length} writes read back, ${missing.size} not yet in every region (${Math.round((Date.now() - startedAt) / 1000)} s)`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_BACK_CONCURRENCY, ledger.length) }, reader));
  // In the ledger's order, as one reader would have found them.
  return ledger.filter((entry) => missing.has(entry.id)).map((entry) => entry.id);
}

/** missingAcknowledged, again and again until none is missing or `settleMs` has passed (replication lags). */
export async function lostAfterSettling(
  target: DrillTarget,
  ledger: readonly LedgerEntry[],
  settleMs: number,
  progress: (line: string) => void = () => undefined,
): Promise<string[]> {
  let lost = await missingAcknowledged(target, ledger, progress);
  const deadline = Date.now() + settleMs;
  while (lost.length > 0 && Date.now() < deadline) {
    progress(
      `verifying: ${lost.length} writes not yet in every region; reading again until replication settles (at most ${Math.round((deadline - Date.now()) / 1000)} s more)`,
    );
    await sleep(Math.max(100, target.probeIntervalMs * 2));
    lost = await missingAcknowledged(target, ledger, progress);
  }
  return lost;
}
