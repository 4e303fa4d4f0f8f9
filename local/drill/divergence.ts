import type { DivergenceCheck } from "../../shared/drill-report.js";
import type { DrillTarget } from "./target.js";

const SETTLE_POLL_MS = 500;

/** What a region answered for an id, without what differs by who served it. */
function content(body: unknown): string {
  if (typeof body !== "object" || body === null) return JSON.stringify(body ?? null);
  const { servedBy: _servedBy, durationMs: _durationMs, region: _region, ...rest } = body as Record<string, unknown>;
  return JSON.stringify(rest);
}

/**
 * Whether the regions hold the same data once replication has settled. Where the target can
 * compare whole tables (the local cloud) it does; otherwise every id the drill wrote is read from
 * every region until they agree or `settleMs` has passed: the ids still differing then diverged.
 */
export async function checkDivergence(
  target: DrillTarget,
  ids: readonly string[],
  settleMs: number,
): Promise<DivergenceCheck> {
  if (target.verifyTable !== undefined) return target.verifyTable();
  const deadline = Date.now() + settleMs;
  let differing: string[] = [];
  for (;;) {
    differing = [];
    for (const id of ids) {
      const answers = await Promise.all(target.regions.map((region) => target.read(region, id)));
      const forms = new Set(
        answers.map((answer) => `${answer.status} ${answer.status === 200 ? content(answer.body) : ""}`),
      );
      if (forms.size > 1) differing.push(id);
    }
    if (differing.length === 0 || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
  }
  return {
    scope: "drill ids",
    compared: ids.length,
    divergentItems: differing.length,
    divergentIds: differing.slice(0, 50),
    reason: null,
  };
}
