import { randomBytes } from "node:crypto";
import { type ConflictReport, conflictSchema, type PairingResult, type Probe } from "../../shared/drill-report.js";
import { checkDivergence } from "./divergence.js";
import { isSuccess } from "./ledger.js";
import type { DrillTarget } from "./target.js";

type WriteKind = "single" | "batch";

export interface ConflictDrillOptions {
  stack: string;
  /** Racing pairs per pairing (a pairing is a scope, two regions and two kinds of request). */
  pairsPerPairing?: number;
  /** How long the read-back retries a region that answers neither 200 nor 404 (default 30 s). */
  readBackMs?: number;
  /** An MRSC stack: no cross-region pair may be acknowledged twice, so none can be superseded. */
  strongConsistency?: boolean;
  progress?: (line: string) => void;
}

/** Pairs racing at once: 20 requests, well under a region's reserved concurrency. */
const PAIRS_AT_ONCE = 10;
/** A 503 says "not acknowledged, retry with the same key"; the drill's clients do. */
const RETRIES_AFTER_503 = 3;
const READ_BACK_MS = 30_000;
const READ_RETRY_MS = 200;
const KIND_PAIRS: [WriteKind, WriteKind][] = [
  ["single", "single"],
  ["single", "batch"],
  ["batch", "single"],
  ["batch", "batch"],
];

interface Pairing {
  scope: PairingResult["scope"];
  regions: [string, string];
  kinds: [WriteKind, WriteKind];
}

/** Every pairing: each region against itself, and each two regions against each other. */
export function pairingsOf(regions: readonly string[]): Pairing[] {
  const pairings: Pairing[] = [];
  for (const region of regions) {
    for (const kinds of KIND_PAIRS) pairings.push({ scope: "same-region", regions: [region, region], kinds });
  }
  for (const [index, first] of regions.entries()) {
    for (const second of regions.slice(index + 1)) {
      for (const kinds of KIND_PAIRS) pairings.push({ scope: "cross-region", regions: [first, second], kinds });
    }
  }
  return pairings;
}

/** One writer's outcome: its final status (after retrying 503s) and the result it was given. */
interface WriterOutcome {
  status: number;
  result: string | null;
}

/**
 * The conflict drill: concurrent writers with shared ids in every region, in every pairing of
 * single and batch requests, same-region and cross-region. Once replication has settled, every id
 * is read back from every region: a same-region acknowledged write that another body replaced
 * is lost (must be 0: the 409 promise); a cross-region acknowledged write the other region's
 * write superseded is MREC's exposure (reported, expected above 0); items that differ between
 * regions must be 0.
 */
export async function runConflictDrill(target: DrillTarget, options: ConflictDrillOptions): Promise<ConflictReport> {
  const progress = options.progress ?? (() => undefined);
  const pairsPerPairing = options.pairsPerPairing ?? 20;
  const runId = randomBytes(4).toString("hex");
  const startedAt = Date.now();
  const clock = () => Date.now() - startedAt;
  const probes: Probe[] = [];
  const pairings = pairingsOf(target.regions);

  /** One request; every attempt is a probe on the timeline. */
  async function attempt(kind: WriteKind, region: string, id: string, operands: string[], label: string) {
    const calculation = { operation: "add", operands, id };
    const sentMs = clock();
    const answer =
      kind === "single"
        ? await target.writeIn(region, "/v1/calculations", calculation)
        : await target.writeIn(region, "/v1/calculations/batch", {
            items: [
              calculation,
              { operation: "abs", operands: [operands[1] ?? "0"], id: `${id}-companion-${operands[0]}` },
            ],
          });
    const endedMs = clock();
    const body = answer.body as
      | { result?: string; results?: { status: number; calculation?: { result: string } }[] }
      | undefined;
    const contested = kind === "batch" ? body?.results?.[0] : undefined;
    const status =
      kind === "batch" ? (contested?.status ?? (answer.status === 200 ? 0 : answer.status)) : answer.status;
    const result = kind === "batch" ? (contested?.calculation?.result ?? null) : (body?.result ?? null);
    probes.push({ sentMs, endedMs, location: label, status, region: answer.region });
    return { status, result };
  }

  async function writer(kind: WriteKind, region: string, id: string, operands: string[], label: string) {
    let outcome: WriterOutcome = await attempt(kind, region, id, operands, label);
    for (let retry = 0; outcome.status === 503 && retry < RETRIES_AFTER_503; retry++) {
      outcome = await attempt(kind, region, id, operands, label);
    }
    return outcome;
  }

  progress(
    `drill ${runId}: conflict (${target.kind}) over ${target.regions.join(", ")}: ${pairings.length} pairings × ${pairsPerPairing} racing pairs, ${PAIRS_AT_ONCE} pairs at a time`,
  );
  const races: { pairing: number; id: string; outcomes: [WriterOutcome, WriterOutcome] }[] = [];
  for (const [index, pairing] of pairings.entries()) {
    const label = `${pairing.scope} ${pairing.kinds.join("/")}`;
    const ids = Array.from({ length: pairsPerPairing }, (_, pair) => `conflict-${runId}-${index}-${pair}`);
    for (let start = 0; start < ids.length; start += PAIRS_AT_ONCE) {
      await Promise.all(
        ids.slice(start, start + PAIRS_AT_ONCE).map(async (id, offset) => {
          const n = String(start + offset);
          // Two bodies that differ in every way a reader can see: the operands and so the result.
          const outcomes = await Promise.all([
            writer(pairing.kinds[0], pairing.regions[0], id, ["1", n], label),
            writer(pairing.kinds[1], pairing.regions[1], id, ["2", n], label),
          ]);
          races.push({ pairing: index, id, outcomes });
        }),
      );
    }
    progress(`  ${label} ${pairing.regions.join(" vs ")}: ${ids.length} pairs raced`);
  }
  const racesEndedMs = clock();

  progress(`settling: waiting for replication, then reading ${races.length} ids back from every region ...`);
  const divergence = await checkDivergence(
    target,
    races.map((race) => race.id),
    60_000,
  );
  // What each region holds for an id: its result, null when it has none (404), undefined when it
  // would not say (a 503 while a process restarts, no answer). A read is retried for readBackMs;
  // a region that let one run out gets a single try per id after that, until it answers again.
  const patienceMs = options.readBackMs ?? READ_BACK_MS;
  const silent = new Set<string>();
  const readBack = async (region: string, id: string): Promise<string | null | undefined> => {
    const started = Date.now();
    for (;;) {
      const answer = await target.read(region, id);
      if (answer.status === 200 || answer.status === 404) silent.delete(region);
      if (answer.status === 200) return String((answer.body as { result?: unknown } | undefined)?.result ?? "");
      if (answer.status === 404) return null;
      if (silent.has(region) || Date.now() - started > patienceMs) {
        silent.add(region);
        return undefined;
      }
      await new Promise((resolve) => setTimeout(resolve, READ_RETRY_MS));
    }
  };
  const stored = new Map<string, (string | null | undefined)[]>();
  for (const race of races) {
    stored.set(race.id, await Promise.all(target.regions.map((region) => readBack(region, race.id))));
  }
  const settledMs = clock();

  const results: PairingResult[] = pairings.map((pairing) => ({
    scope: pairing.scope,
    regions: pairing.regions,
    kinds: pairing.kinds,
    pairs: 0,
    bothAcknowledged: 0,
    neitherAcknowledged: 0,
    acknowledgedSuperseded: 0,
  }));
  const sameRegionLostIds: string[] = [];
  const unreadableIds: string[] = [];
  let acknowledgedWrites = 0;
  for (const race of races) {
    const result = results[race.pairing] as PairingResult;
    result.pairs += 1;
    const acknowledged = race.outcomes.filter((outcome) => isSuccess(outcome.status));
    acknowledgedWrites += acknowledged.length;
    if (acknowledged.length === 2) result.bothAcknowledged += 1;
    if (acknowledged.length === 0) result.neitherAcknowledged += 1;
    const copies = stored.get(race.id) ?? [];
    if (copies.includes(undefined)) {
      unreadableIds.push(race.id);
      continue;
    }
    const replaced = acknowledged.filter((outcome) => copies.some((copy) => copy !== outcome.result));
    result.acknowledgedSuperseded += replaced.length;
    if (result.scope === "same-region" && replaced.length > 0) sameRegionLostIds.push(race.id);
  }
  const sum = (scope: PairingResult["scope"], field: "acknowledgedSuperseded" | "bothAcknowledged") =>
    results.filter((result) => result.scope === scope).reduce((total, result) => total + result[field], 0);
  const sameRegionLost = sum("same-region", "acknowledgedSuperseded");
  const crossSuperseded = sum("cross-region", "acknowledgedSuperseded");
  progress(
    `settled: ${acknowledgedWrites} acknowledged writes; same-region lost ${sameRegionLost}; cross-region superseded ${crossSuperseded}; ${divergence.divergentItems} of ${divergence.compared} items differ between regions (${divergence.scope})${unreadableIds.length > 0 ? `; ${unreadableIds.length} ids unreadable` : ""}`,
  );

  const verdicts: string[] = [];
  if (unreadableIds.length > 0) {
    verdicts.push(`${unreadableIds.length} ids could not be read back from every region (neither 200 nor 404)`);
  }
  if (sameRegionLost > 0) {
    verdicts.push(`${sameRegionLost} acknowledged writes were replaced by another body within their region`);
  }
  if (divergence.divergentItems > 0) verdicts.push(`${divergence.divergentItems} items differ between regions`);
  else if (divergence.reason !== null) verdicts.push(`convergence not verified: ${divergence.reason}`);
  const crossBoth = sum("cross-region", "bothAcknowledged");
  if (options.strongConsistency === true && crossBoth > 0) {
    verdicts.push(
      `${crossBoth} cross-region pairs were both acknowledged (${crossSuperseded} superseded): MRSC promises one`,
    );
  }

  const at = (ms: number) => new Date(startedAt + ms).toISOString();
  const report: ConflictReport = {
    schemaVersion: 2,
    kind: "conflict",
    mode: "conflict",
    target: target.kind,
    stack: options.stack,
    entryPoint: target.entryPoint,
    regions: target.regions,
    times: { startedAt: at(0), racesEndedAt: at(racesEndedMs), settledAt: at(settledMs), finishedAt: at(clock()) },
    pairings: results,
    measured: {
      pairs: races.length,
      requests: probes.length,
      acknowledgedWrites,
      sameRegionAcknowledgedLost: sameRegionLost,
      sameRegionLostIds: sameRegionLostIds.slice(0, 50),
      crossRegionAcknowledgedSuperseded: crossSuperseded,
      crossRegionBothAcknowledged: crossBoth,
      unreadableIds: unreadableIds.slice(0, 50),
      divergence,
    },
    passed: verdicts.length === 0,
    failures: verdicts,
    probes: [...probes].sort((a, b) => a.sentMs - b.sentMs),
    timeline: null,
  };
  const checked = conflictSchema.safeParse(report);
  if (!checked.success) throw new Error(`the drill produced an invalid report: ${checked.error.issues[0]?.message}`);
  return report;
}
