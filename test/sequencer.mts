import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * Test files by how long they took in a fresh-clone run of the whole suite on a 2-core machine
 * (two workers), slowest first; every other file is quicker than the last one listed. Each of
 * these starts at least one local cloud.
 *
 * Why a list: vitest runs the files it has timed before longest first, but a clean clone (CI) has
 * no such record, so it orders them by size in bytes, and a short file that runs drills for
 * minutes then starts last, leaving one worker idle while the other finishes it. Started first,
 * the long files overlap each other and the quick ones fill the gaps at the end. The order only
 * decides when a file starts, never whether or how it runs, so a stale entry costs minutes, not
 * correctness; refresh the list from a run's report when a file's duration changes a lot.
 */
export const SLOWEST_FIRST = [
  "local/test/drill.test.ts",
  "local/test/drill-bad-release.test.ts",
  "local/test/durable-regions.test.ts",
  "local/test/strong-writes.test.ts",
  "local/test/lifecycle.test.ts",
  "local/test/release-local.test.ts",
  "local/test/failover.test.ts",
  "local/test/no-false-alarms.test.ts",
  "local/test/drill-verdicts.test.ts",
  "local/test/supervision.test.ts",
  "local/test/acknowledged-writes.test.ts",
  "local/test/strong-isolation.test.ts",
  // One cloud (two regions and the witness); 28 s of cases in a whole run (2026-12-02).
  "local/test/strong-witness.test.ts",
  "local/test/cli.test.ts",
  "local/test/function-versions.test.ts",
  // Two cloud starts, one per case (each case ends its cloud); 28 s of cases in a whole run (2026-12-02).
  "local/test/lost-output.test.ts",
  "local/test/dashboard.test.ts",
  "local/test/dynamodb-launcher.test.ts",
  "local/test/monitoring.test.ts",
  "local/test/three-regions.test.ts",
  "local/test/monitoring-missing.test.ts",
  "local/test/replication.test.ts",
  // Two DynamoDB Locals and a real TTL sweep (22 s); artillery against a dead port (19 s).
  "local/test/tombstones.test.ts",
  "local/test/load-cli.test.ts",
];

function rank(specification: TestSpecification): number {
  const root = specification.project.config.root;
  const file = specification.moduleId.startsWith(`${root}/`)
    ? specification.moduleId.slice(root.length + 1)
    : specification.moduleId;
  const index = SLOWEST_FIRST.indexOf(file);
  return index === -1 ? SLOWEST_FIRST.length : index;
}

/**
 * vitest's own order (project groups first, then what it knows of earlier runs), with the files
 * known to be slow moved ahead of the rest of their project, slowest first.
 */
export default class SlowestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const position = new Map(sorted.map((file, index) => [file, index]));
    return sorted.sort((a, b) => {
      const groupOrder = a.project.config.sequence.groupOrder - b.project.config.sequence.groupOrder;
      if (groupOrder !== 0 || a.project.name !== b.project.name) return (position.get(a) ?? 0) - (position.get(b) ?? 0);
      return rank(a) - rank(b) || (position.get(a) ?? 0) - (position.get(b) ?? 0);
    });
  }
}
