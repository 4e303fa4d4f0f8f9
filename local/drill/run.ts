import { randomBytes } from "node:crypto";
import {
  type FailoverMode,
  type FailoverReport,
  failoverSchema,
  type Probe,
  SELF_HEALING_MODES,
} from "../../shared/drill-report.js";
import { overloadWarning } from "../process/readiness.js";
import { checkDivergence } from "./divergence.js";
import { isSuccess, lostAfterSettling, sleep, startWrites } from "./ledger.js";
import type { DrillTarget } from "./target.js";

export interface DrillOptions {
  stack: string;
  region: string;
  mode: FailoverMode;
  /** How long the fault stays in place; by default one and a half RTO budgets. */
  outageMs?: number;
  /** Traffic before the injection, to see the steady state. */
  baselineMs?: number;
  /** An MRSC stack: its promise of RPO 0 becomes a verdict. */
  strongConsistency?: boolean;
  progress?: (line: string) => void;
  now?: () => number;
}

/** Polls `check` every `everyMs` until it is true or `timeoutMs` passes; whether it became true. */
export async function until(check: () => Promise<boolean>, timeoutMs: number, everyMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
}

/**
 * A failover drill: steady writes from every client location through the global entry point,
 * then the fault, then the restore, measuring detection, RTO, failed requests, RPO exposure and
 * lost acknowledged writes (which must be 0). The report says whether the RTO stayed within the
 * budget the stack config implies.
 */
export async function runDrill(target: DrillTarget, options: DrillOptions): Promise<FailoverReport> {
  const { region, mode } = options;
  const progress = options.progress ?? (() => undefined);
  if (!target.regions.includes(region)) {
    throw new Error(`${region} is not a region of stack ${options.stack} (${target.regions.join(", ")})`);
  }
  await target.prepare?.();
  const survivors = target.regions.filter((other) => other !== region);
  const selfHealing = SELF_HEALING_MODES.includes(mode);
  const budgetMs = target.budget.detectionMs + target.budget.ttlMs + target.budget.slackMs;
  const outageMs = options.outageMs ?? Math.round(budgetMs * 1.5);
  const baselineMs = options.baselineMs ?? Math.max(target.probeIntervalMs * 10, 1000);
  const runId = randomBytes(4).toString("hex");
  const startedAt = Date.now();
  const clock = () => Date.now() - startedAt;
  const { probes, ledger, stop: stopWrites } = startWrites(target, { runId, clock });

  progress(
    `drill ${runId}: ${mode} on ${region} (${target.kind}), ${target.locations.length} client locations through ${target.entryPoint}; RTO budget ${budgetMs} ms`,
  );
  const overloadedAtStart = overloadWarning();
  if (overloadedAtStart !== undefined) progress(overloadedAtStart);
  // Every region's health, not only the drilled one's: a survivor marked unhealthy too is what
  // turns a failover into an outage, and the verdict has to say so.
  // Polled less often than the detection watch below: the supervisor answering it is the router.
  const health = watchEveryRegion(target, clock, Math.max(250, target.probeIntervalMs), (line) => progress(line));
  await sleep(baselineMs);

  // Steady state first: a fault injected while the regions are still warming up (a new cloud's
  // first requests start function instances and JIT-compile DynamoDB Local) measures the warm-up
  // on top of the failover, and on a busy machine that was enough to push the survivor past
  // its own health checks.
  const steadyTimeoutMs = Math.max(budgetMs * 2, 10_000);
  // What was last found not steady; the check itself keeps it, so the answer is not asked twice.
  const last = { unsteady: "the health checks did not answer" as string | null };
  await until(
    async () => {
      last.unsteady = steadyState(probes, target, await target.health());
      return last.unsteady === null;
    },
    steadyTimeoutMs,
    target.probeIntervalMs,
  );
  const { unsteady } = last;
  if (unsteady !== null)
    progress(
      `not steady after ${Math.round(steadyTimeoutMs / 1000)} s of traffic (${unsteady}); injecting all the same`,
    );
  else
    progress(
      `steady: every location served by its preferred region ${(clock() / 1000).toFixed(1)} s after the traffic started`,
    );

  // The fault, and its detection by the routing layer's health checks.
  const injectedMs = clock();
  progress(`inject: ${await target.inject(region, mode)}`);
  let detectedMs: number | null = null;
  const watchHealth = (async () => {
    const found = await until(
      async () => (await target.health())[region] === false,
      outageMs,
      Math.max(100, Math.round(target.probeIntervalMs / 2)),
    );
    if (found) {
      detectedMs = clock();
      progress(`detected: the health checks mark ${region} unhealthy after ${detectedMs - injectedMs} ms`);
    } else if (selfHealing) {
      progress(`not detected: ${region} recovered before its health checks failed ${outageMs} ms in a row`);
    }
  })();
  await sleep(Math.max(0, injectedMs + outageMs - clock()));
  await watchHealth;

  // RPO exposure, read during the outage: writes the failed region acknowledged that a surviving
  // region cannot serve yet.
  // A 404 says the write is not there; a 5xx or no answer (a survivor busy with everyone's
  // traffic) says nothing, so such a read is asked again until the deadline before it counts.
  const exposed: string[] = [];
  const rereadUntil = Date.now() + Math.max(5000, target.probeIntervalMs * 10);
  const readable = async (survivor: string, id: string) => {
    for (;;) {
      const { status } = await target.read(survivor, id);
      if (status === 200) return true;
      if (status === 404 || Date.now() >= rereadUntil) return false;
      await sleep(target.probeIntervalMs);
    }
  };
  for (const entry of ledger.filter((one) => one.region === region)) {
    for (const survivor of survivors) {
      if (!(await readable(survivor, entry.id))) {
        exposed.push(entry.id);
        break;
      }
    }
  }
  progress(
    `RPO exposure during the outage: ${exposed.length} acknowledged writes not readable in ${survivors.join(", ")}`,
  );

  const restoredMs = clock();
  progress(`restore: ${await target.restore(region, mode)}`);

  // Back to latency routing: every location served by its preferred region again.
  const returnDeadline = budgetMs * 2 + target.budget.detectionMs;
  const returned = await until(
    async () =>
      target.locations.every((location) => {
        const recent = probes.filter(
          (probe) => probe.location === location && probe.sentMs > clock() - target.probeIntervalMs * 3,
        );
        return (
          recent.length > 0 &&
          recent.every((probe) => isSuccess(probe.status) && probe.region === target.preferredRegion[location])
        );
      }),
    returnDeadline,
    target.probeIntervalMs,
  );
  const returnMs = returned ? clock() - restoredMs : null;
  progress(
    returned
      ? `returned: every location on its preferred region ${returnMs} ms after the restore`
      : "traffic did not return to latency routing in time",
  );
  await stopWrites();
  const unhealthy = await health.stop();

  // Nothing acknowledged may be lost: every write, in every region, with the result its client
  // was given, once replication settles.
  progress(`verifying: reading ${ledger.length} acknowledged writes back from ${target.regions.join(", ")} ...`);
  const lost = await lostAfterSettling(target, ledger, Math.max(10_000, budgetMs * 2), progress);
  const outageWrites = ledger.filter(
    (entry) => entry.region !== region && entry.ackedMs > injectedMs && entry.ackedMs < restoredMs,
  );
  const lostSet = new Set(lost);
  progress(
    `verified: ${ledger.length} acknowledged writes read back from every region, ${lost.length} missing or changed`,
  );
  const divergence = await checkDivergence(
    target,
    ledger.map((entry) => entry.id),
    Math.max(10_000, budgetMs * 2),
  );
  progress(
    `convergence: ${divergence.compared} items compared (${divergence.scope}), ${divergence.divergentItems} differ between regions${divergence.reason === null ? "" : `; ${divergence.reason}`}`,
  );

  // The measurements.
  const afterInjection = probes.filter((probe) => probe.sentMs >= injectedMs && probe.sentMs < restoredMs);
  const failures = afterInjection.filter((probe) => !isSuccess(probe.status));
  // By when it was sent: a request to a frozen table was doomed when it left, though its 503
  // comes after the function's 3 s data budget (which the local time scale does not shrink).
  const lastErrorMs = failures.length === 0 ? null : Math.max(...failures.map((probe) => probe.sentMs)) - injectedMs;
  // The first moment after which every probe of every location succeeded from a surviving region
  // (or, after a fault the region heals by itself, from any region: its own success is recovery).
  const unhealthyServed = afterInjection.filter(
    (probe) => !isSuccess(probe.status) || (probe.region === region && !selfHealing),
  );
  const allServedFrom =
    unhealthyServed.length === 0 ? injectedMs : Math.max(...unhealthyServed.map((probe) => probe.sentMs)) + 1;
  const servedAfter = afterInjection.filter((probe) => probe.sentMs >= allServedFrom);
  const everyLocationServed = target.locations.every((location) =>
    servedAfter.some((probe) => probe.location === location),
  );
  const rtoAllServedMs = everyLocationServed ? allServedFrom - injectedMs : null;
  const verdicts: string[] = [];
  if (unsteady !== null)
    verdicts.push(
      `no steady state before the injection: after ${Math.round(steadyTimeoutMs / 1000)} s of traffic ${unsteady}, so the figures measure more than the failover`,
    );
  if (rtoAllServedMs === null)
    verdicts.push(`not every location was served by a healthy region before the restore (${outageMs} ms outage)`);
  else if (rtoAllServedMs > budgetMs)
    verdicts.push(`RTO to every location served was ${rtoAllServedMs} ms, over the ${budgetMs} ms budget`);
  if (lastErrorMs !== null && lastErrorMs > budgetMs)
    verdicts.push(`the last client error came ${lastErrorMs} ms after the injection, over the ${budgetMs} ms budget`);
  if (lost.length > 0)
    verdicts.push(`${lost.length} acknowledged writes are missing from a region, or changed, after the restore`);
  if (!returned) verdicts.push("traffic did not return to latency routing after the restore");
  if (options.strongConsistency === true && exposed.length > 0)
    verdicts.push(
      `${exposed.length} acknowledged writes were not readable elsewhere during the outage: MRSC promises RPO 0`,
    );
  if (divergence.divergentItems > 0) verdicts.push(`${divergence.divergentItems} items differ between regions`);
  else if (divergence.reason !== null) verdicts.push(`convergence not verified: ${divergence.reason}`);
  const bystanders = [...new Set(unhealthy.filter((one) => one.region !== region).map((one) => one.region))];
  if (verdicts.length > 0 && bystanders.length > 0) {
    // Why a failover failed is usually here: the region the clients were sent to was down too.
    verdicts.push(
      `${bystanders.join(", ")} ${bystanders.length === 1 ? "was" : "were"} marked unhealthy during the drill too, though the fault was injected in ${region} only`,
    );
  }
  const overloaded = overloadWarning();
  if (overloaded !== undefined) progress(overloaded);

  const at = (ms: number) => new Date(startedAt + ms).toISOString();
  const report: FailoverReport = {
    schemaVersion: 2,
    kind: "failover",
    target: target.kind,
    stack: options.stack,
    region,
    mode,
    entryPoint: target.entryPoint,
    locations: target.locations,
    preferredRegion: target.preferredRegion,
    times: {
      startedAt: at(0),
      injectedAt: at(injectedMs),
      detectedAt: detectedMs === null ? null : at(detectedMs),
      restoredAt: at(restoredMs),
      finishedAt: at(clock()),
    },
    budget: { ...target.budget, rtoMs: budgetMs },
    measured: {
      detectionMs: detectedMs === null ? null : detectedMs - injectedMs,
      rtoLastErrorMs: lastErrorMs,
      rtoAllServedMs,
      returnMs,
      requests: probes.length,
      failedRequests: failures.length,
      acknowledgedWrites: ledger.length,
      rpoExposure: exposed.length,
      rpoExposureIds: exposed.slice(0, 50),
      lostAcknowledgedWrites: lost.length,
      lostIds: lost.slice(0, 50),
      outageWritesReplicatedBack: outageWrites.every((entry) => !lostSet.has(entry.id)),
      replicationLag: await target.replicationLag().catch(() => null),
      divergence,
    },
    passed: verdicts.length === 0,
    failures: verdicts,
    probes: [...probes].sort((a, b) => a.sentMs - b.sentMs),
    timeline: null,
    unhealthy,
    ...(overloaded !== undefined && { overloaded }),
  };
  // The report is the drill's contract with whoever reads it later: check it before handing it out.
  const checked = failoverSchema.safeParse(report);
  if (!checked.success) throw new Error(`the drill produced an invalid report: ${checked.error.issues[0]?.message}`);
  return report;
}

/** How many answered probes in a row each location needs from its preferred region to count as steady. */
const STEADY_PROBES = 5;

/**
 * Null when the system is in its steady state: every region healthy, and each location's last
 * few answered probes successful and served by its preferred region; otherwise what is not.
 */
export function steadyState(
  probes: readonly Probe[],
  target: Pick<DrillTarget, "locations" | "preferredRegion">,
  health: Record<string, boolean>,
): string | null {
  const unhealthy = Object.entries(health)
    .filter(([, healthy]) => !healthy)
    .map(([region]) => region);
  if (unhealthy.length > 0) return `the health checks mark ${unhealthy.join(", ")} unhealthy`;
  for (const location of target.locations) {
    const answered = probes.filter((probe) => probe.location === location).sort((a, b) => a.endedMs - b.endedMs);
    const last = answered.slice(-STEADY_PROBES);
    const preferred = target.preferredRegion[location];
    if (last.length < STEADY_PROBES)
      return `${location} has ${last.length} answered requests of the ${STEADY_PROBES} needed`;
    const off = last.find((probe) => !isSuccess(probe.status) || probe.region !== preferred);
    if (off !== undefined)
      return `a request from ${location} got ${off.status === 0 ? "no answer" : `HTTP ${off.status}`} from ${off.region ?? "no region"}, not success from ${preferred}`;
  }
  return null;
}

type UnhealthyPeriod = NonNullable<FailoverReport["unhealthy"]>[number];

/**
 * Polls the routing layer's view of every region until stopped; returns each period a region was
 * unhealthy, and prints each change of a region other than through the drill's own lines.
 */
function watchEveryRegion(
  target: DrillTarget,
  clock: () => number,
  everyMs: number,
  progress: (line: string) => void,
): { stop(): Promise<UnhealthyPeriod[]> } {
  const periods: UnhealthyPeriod[] = [];
  const open = new Map<string, UnhealthyPeriod>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const seen = await target.health().catch(() => undefined);
      const now = clock();
      for (const [region, healthy] of Object.entries(seen ?? {})) {
        const current = open.get(region);
        if (!healthy && current === undefined) {
          const period = { region, fromMs: now, toMs: null };
          open.set(region, period);
          periods.push(period);
          progress(`health: ${region} marked unhealthy at ${(now / 1000).toFixed(1)} s`);
        } else if (healthy && current !== undefined) {
          current.toMs = now;
          open.delete(region);
          progress(`health: ${region} healthy again at ${(now / 1000).toFixed(1)} s`);
        }
      }
      await sleep(everyMs);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return periods;
    },
  };
}
