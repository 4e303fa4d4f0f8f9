import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { PairStatus } from "../replicator/replicator.js";
import { eventually, type RunningCloud, request, startCloud, survivors } from "./support/cloud.js";

// Each region's DynamoDB Local keeps its tables on disk under the state folder, like a region's
// storage: a crashed DynamoDB Local comes back with every write it acknowledged, and a new
// `npm start` on the same folder finds the previous run's items (and the replicator's
// checkpoints into the same streams), unless it is told --fresh.

const [A, B] = ["us-east-1", "eu-west-1"] as const;
const TIME_SCALE = 0.05;
/** A restarted DynamoDB Local needs a JVM start; replication then catches up. */
const BACK_WITHIN_MS = 120_000;

const folders: string[] = [];
const started: RunningCloud[] = [];
const seenPids: number[] = [];

async function cloudIn(stateDirectory: string, options: { fresh?: boolean } = {}): Promise<RunningCloud> {
  const cloud = await startCloud({ timeScale: TIME_SCALE, stateDirectory, ...options });
  started.push(cloud);
  return cloud;
}

async function stop(cloud: RunningCloud): Promise<void> {
  seenPids.push(...cloud.pids());
  await cloud.stop();
}

function newFolder(): string {
  const folder = mkdtempSync(path.join(tmpdir(), "calcburst-durable-"));
  folders.push(folder);
  return folder;
}

afterAll(async () => {
  for (const cloud of started) await stop(cloud);
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  expect(await survivors(seenPids)).toEqual([]);
}, BACK_WITHIN_MS);

const write = (cloud: RunningCloud, location: string, id: string) =>
  request(cloud.routerUrl, {
    path: "/v1/calculations",
    location,
    body: { operation: "add", operands: ["0.1", "0.2"], id },
  });
const read = (cloud: RunningCloud, region: string, id: string) =>
  request(cloud.routerUrl, { path: `/v1/calculations/${id}`, targetRegion: region });
const readable = (cloud: RunningCloud, region: string, id: string) =>
  eventually(
    `${id} readable in ${region}`,
    async () => {
      const response = await read(cloud, region, id);
      return response.status === 200 ? response.body : undefined;
    },
    BACK_WITHIN_MS,
    100,
  );

/** What a region answers for an item, less what may differ between two reads of it. */
function stored(body: Record<string, unknown>): Record<string, unknown> {
  const { durationMs: _took, servedBy: _by, ...item } = body;
  return item;
}

/** A write straight into one region's API: what an isolated region still takes. */
async function writeInto(cloud: RunningCloud, region: string, id: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${cloud.state().regions[region]?.api.url}/v1/calculations`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ operation: "multiply", operands: ["1.5", "3"], id }),
    signal: AbortSignal.timeout(15_000),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as Record<string, unknown>;
}

async function replicationPairs(cloud: RunningCloud): Promise<PairStatus[]> {
  const { replication } = await cloud.status();
  if ("error" in replication) throw new Error(replication.error);
  return replication.pairs;
}

describe("durable regions", () => {
  it(
    "keeps a write acknowledged just before its DynamoDB Local is killed, and replicates it once it is back",
    async () => {
      // Prepare: replication paused, so the write cannot have left its region before the kill.
      const cloud = await cloudIn(newFolder());
      expect(cloud.cli("fail", A, "--mode", "isolate").status).toBe(0);
      const acknowledged = await writeInto(cloud, A, "acknowledged-before-crash");
      const killedPid = cloud.state().regions[A]?.dynamodb.pid;

      // Act: kill -9 the moment the write is acknowledged; restore waits until the supervisor has it back.
      const crash = cloud.cli("fail", A, "--mode", "crash");
      const restore = cloud.cli("restore", A);

      // Assess
      expect(crash.stdout).toContain(`${A}'s DynamoDB Local (pid ${killedPid}) is killed with SIGKILL`);
      expect(restore.status, restore.stderr).toBe(0);
      expect(restore.stdout).toMatch(/reconnected, DynamoDB Local is back \(pid \d+\), restarted by the supervisor/);
      expect(cloud.state().regions[A]?.dynamodb.pid).not.toBe(killedPid);
      expect(stored(await readable(cloud, A, "acknowledged-before-crash"))).toEqual(stored(acknowledged));
      expect(stored(await readable(cloud, B, "acknowledged-before-crash"))).toEqual(stored(acknowledged));
      const verify = cloud.cli("verify", "--timeout", "60");
      expect(verify.status, verify.stdout).toBe(0);
      await stop(cloud);
    },
    BACK_WITHIN_MS * 3,
  );

  it(
    "keeps every region's items when npm start runs again on the same state folder, and replication resumes where it stopped",
    async () => {
      // Prepare: one item everywhere, one that the first run never replicated.
      const folder = newFolder();
      const first = await cloudIn(folder);
      expect((await write(first, "us", "from-the-first-run")).status).toBe(201);
      await readable(first, B, "from-the-first-run");
      expect(first.cli("fail", A, "--mode", "isolate").status).toBe(0);
      const unreplicated = await writeInto(first, A, "never-left-the-first-run");
      await stop(first);

      // Act
      const second = await cloudIn(folder);

      // Assess: the items are there, the unreplicated one arrives, and nothing applied before is offered again.
      expect(second.output()).toMatch(/^data: kept from the previous run in /m);
      expect(second.output()).toMatch(new RegExp(`${A}: DynamoDB Local .*, 2 items kept from the previous run`));
      expect((await read(second, A, "from-the-first-run")).status).toBe(200);
      expect((await read(second, B, "from-the-first-run")).status).toBe(200);
      expect(stored(await readable(second, B, "never-left-the-first-run"))).toEqual(stored(unreplicated));
      const pairs = await eventually(
        "replication caught up",
        async () => {
          const now = await replicationPairs(second);
          return now.every((pair) => pair.caughtUpAt !== null) ? now : undefined;
        },
        BACK_WITHIN_MS,
        100,
      );
      const aToB = pairs.find((pair) => pair.source === A);
      const bToA = pairs.find((pair) => pair.source === B);
      expect(aToB?.records).toMatchObject({ applied: 1, superseded: 0 });
      // The one item applied in B comes back on B's stream as an echo, and is not applied again.
      expect(bToA?.records).toMatchObject({ applied: 0, superseded: 0, echo: 1 });
      await stop(second);
    },
    BACK_WITHIN_MS * 3,
  );

  it(
    "starts with empty tables when npm start is told --fresh",
    async () => {
      // Prepare
      const folder = newFolder();
      const first = await cloudIn(folder);
      expect((await write(first, "us", "from-before-fresh")).status).toBe(201);
      await stop(first);

      // Act
      const fresh = await cloudIn(folder, { fresh: true });

      // Assess
      expect(fresh.output()).toMatch(/^data: new tables in /m);
      expect((await read(fresh, A, "from-before-fresh")).status).toBe(404);
      expect((await read(fresh, B, "from-before-fresh")).status).toBe(404);
      await stop(fresh);
    },
    BACK_WITHIN_MS * 3,
  );
});
