import {
  ConditionalCheckFailedException,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  type PutItemCommandInput,
} from "@aws-sdk/client-dynamodb";
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type Shard,
  type _Record as StreamRecord,
} from "@aws-sdk/client-dynamodb-streams";
import { Counter, Histogram, Registry } from "prom-client";
import { REPLICATION_METRICS } from "../../shared/metrics.js";
import type { ReplicaEndpoint } from "../cloud/ipc.js";
import { type Stamp, stampMicros } from "../data/stamps.js";
import type { CheckpointStore } from "./checkpoints.js";
import { decide, type ReplicationDecision, replicatedDelete, replicatedPut } from "./resolve.js";
import { ReplicaTombstones, TOMBSTONE_RETENTION_MS, TOMBSTONE_SWEEP_MS } from "./tombstones.js";

/** What became of one stream record offered to one target replica. */
export type ApplyOutcome =
  /** Written in the target (a deletion: its tombstone). */
  | "applied"
  /**
   * The target holds a version applied later (last writer wins), or this very version already
   * (a record offered again after a restart), or, for a deletion, a later version or the
   * deletion's tombstone already.
   */
  | "superseded"
  | Extract<ReplicationDecision, { kind: "skip" }>["reason"];

const OUTCOMES: readonly ApplyOutcome[] = ["applied", "superseded", "echo", "sentinel", "unstamped", "tombstone"];

const CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };
// One attempt per call with short timeouts: the replicator retries itself, and a frozen
// replica must not stall the status page.
const CLIENT_OPTIONS = {
  credentials: CREDENTIALS,
  maxAttempts: 1,
  requestHandler: { connectionTimeout: 1000, requestTimeout: 2000 },
};
const LAG_SAMPLES_KEPT = 10_000;
const SHARD_REFRESH_MS = 1000;
/** Items applied side by side; one item's changes are always applied in order. */
const APPLY_CONCURRENCY = 32;
const CHECKPOINT_EVERY_MS = 50;
const MAX_BACKOFF_MS = 2000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? null;
}

export interface LagSummary {
  samples: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

export interface PairStatus {
  source: string;
  target: string;
  paused: boolean;
  records: Record<ApplyOutcome, number>;
  lastAppliedAt: string | null;
  lastError: string | null;
  /**
   * When the latest poll that found nothing new in any shard began: every change the source's
   * stream held before then is applied (or decided) in the target. Null until such a poll.
   */
  caughtUpAt: string | null;
  lag: LagSummary;
}

/** The tombstones the replicator keeps in one replica (tombstones.ts). */
export interface TombstoneStatus {
  region: string;
  /** Tombstones in the replica that the replicator knows of and has not removed yet. */
  held: number;
  /** Tombstones removed since the replicator started. */
  removed: number;
  lastError: string | null;
}

/** What the replicator's `/status` answers. */
export interface ReplicationStatus {
  isolated: string[];
  pairs: PairStatus[];
  tombstones: TombstoneStatus[];
}

export class ReplicationMetrics {
  readonly registry = new Registry();
  readonly lag = new Histogram({
    ...REPLICATION_METRICS.lag,
    labelNames: REPLICATION_METRICS.lag.labels,
    buckets: [...REPLICATION_METRICS.lag.buckets],
    registers: [this.registry],
  });
  readonly records = new Counter({
    ...REPLICATION_METRICS.records,
    labelNames: REPLICATION_METRICS.records.labels,
    registers: [this.registry],
  });
  readonly errors = new Counter({
    ...REPLICATION_METRICS.errors,
    labelNames: REPLICATION_METRICS.errors.labels,
    registers: [this.registry],
  });
}

export interface PairDependencies {
  source: ReplicaEndpoint;
  target: ReplicaEndpoint;
  checkpoints: CheckpointStore;
  metrics: ReplicationMetrics;
  isPaused: () => boolean;
  pollIntervalMs: number;
  /** Benchmark only (LocalCloudOptions.bypassDataEndpoint). */
  stampAtStream?: boolean;
  /** Told of each tombstone the pair writes, in the source or in the target, for its removal later. */
  noteTombstone?: (region: string, id: string, stamp: Stamp) => void;
}

/**
 * Replicates one region's stream into one other region: the behaviour of a DynamoDB global
 * table (MREC) for that direction. Writes applied in the source (their stamp names it) are put
 * into the target where they win by the rule in resolve.ts, one item's changes strictly in the
 * source's stream order; a deletion leaves the deleted version's tombstone in the target and in
 * the source, where it wins. Pairs run independently, so a frozen replica stalls only the pairs
 * that touch it.
 */
export class PairReplicator {
  readonly key: string;
  private readonly streams: DynamoDBStreamsClient;
  private readonly sourceTable: DynamoDBClient;
  private readonly targetTable: DynamoDBClient;
  private readonly iterators = new Map<string, string>();
  private readonly lagSamples: number[] = [];
  private shards: Shard[] = [];
  private shardsRefreshedAt = 0;
  private streamArn: string | undefined;
  private stopped = false;
  private readonly counts = Object.fromEntries(OUTCOMES.map((outcome) => [outcome, 0])) as Record<ApplyOutcome, number>;
  private lastAppliedAt: string | null = null;
  private lastError: string | null = null;
  private caughtUpAt: string | null = null;

  constructor(private readonly deps: PairDependencies) {
    this.key = `${deps.source.region}->${deps.target.region}`;
    this.streams = new DynamoDBStreamsClient({
      ...CLIENT_OPTIONS,
      endpoint: deps.source.endpoint,
      region: deps.source.region,
    });
    this.sourceTable = new DynamoDBClient({
      ...CLIENT_OPTIONS,
      endpoint: deps.source.endpoint,
      region: deps.source.region,
    });
    this.targetTable = new DynamoDBClient({
      ...CLIENT_OPTIONS,
      endpoint: deps.target.endpoint,
      region: deps.target.region,
    });
  }

  status(): PairStatus {
    const sorted = [...this.lagSamples].sort((a, b) => a - b);
    return {
      source: this.deps.source.region,
      target: this.deps.target.region,
      paused: this.deps.isPaused(),
      records: { ...this.counts },
      lastAppliedAt: this.lastAppliedAt,
      lastError: this.lastError,
      caughtUpAt: this.caughtUpAt,
      lag: {
        samples: sorted.length,
        p50Ms: quantile(sorted, 0.5),
        p95Ms: quantile(sorted, 0.95),
        p99Ms: quantile(sorted, 0.99),
        maxMs: sorted.at(-1) ?? null,
      },
    };
  }

  resetLag(): void {
    this.lagSamples.length = 0;
  }

  stop(): void {
    this.stopped = true;
  }

  close(): void {
    this.streams.destroy();
    this.sourceTable.destroy();
    this.targetTable.destroy();
  }

  private noteError(error: unknown): void {
    this.lastError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.deps.metrics.errors.inc({ source_region: this.deps.source.region, target_region: this.deps.target.region });
  }

  async run(): Promise<void> {
    let backoffMs = this.deps.pollIntervalMs;
    while (!this.stopped) {
      if (this.deps.isPaused()) {
        await sleep(this.deps.pollIntervalMs);
        continue;
      }
      try {
        const pollStartedAt = new Date().toISOString();
        const progressed = await this.pollOnce();
        backoffMs = this.deps.pollIntervalMs;
        this.lastError = null;
        if (!progressed) {
          this.caughtUpAt = pollStartedAt;
          await sleep(this.deps.pollIntervalMs);
        }
      } catch (error) {
        this.noteError(error);
        await sleep(backoffMs);
        backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
      }
    }
  }

  private async currentStreamArn(): Promise<string> {
    if (this.streamArn !== undefined) return this.streamArn;
    const { Table } = await this.sourceTable.send(new DescribeTableCommand({ TableName: this.deps.source.tableName }));
    if (Table?.LatestStreamArn === undefined) throw new Error(`${this.deps.source.tableName} has no stream enabled`);
    this.streamArn = Table.LatestStreamArn;
    return this.streamArn;
  }

  private async refreshShards(streamArn: string): Promise<void> {
    const shards: Shard[] = [];
    let exclusiveStartShardId: string | undefined;
    do {
      const { StreamDescription } = await this.streams.send(
        new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: exclusiveStartShardId }),
      );
      shards.push(...(StreamDescription?.Shards ?? []));
      exclusiveStartShardId = StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId !== undefined);
    this.shards = shards;
    this.shardsRefreshedAt = Date.now();
  }

  /** Reads each open shard once and applies what it returns; true when anything was read. */
  private async pollOnce(): Promise<boolean> {
    const streamArn = await this.currentStreamArn();
    if (Date.now() - this.shardsRefreshedAt > SHARD_REFRESH_MS) await this.refreshShards(streamArn);
    const shardIds = new Set(this.shards.map((shard) => shard.ShardId));
    let progressed = false;
    for (const shard of this.shards) {
      const shardId = shard.ShardId;
      if (shardId === undefined) continue;
      const checkpoint = this.deps.checkpoints.get(this.key, streamArn, shardId);
      if (checkpoint.finished) continue;
      // A child shard waits until its parent is fully applied, so an item's changes stay in order.
      const parent = shard.ParentShardId;
      if (
        parent !== undefined &&
        shardIds.has(parent) &&
        !this.deps.checkpoints.get(this.key, streamArn, parent).finished
      ) {
        continue;
      }
      let iterator = this.iterators.get(shardId);
      if (iterator === undefined) {
        const { ShardIterator } = await this.streams.send(
          new GetShardIteratorCommand({
            StreamArn: streamArn,
            ShardId: shardId,
            ...(checkpoint.sequenceNumber !== undefined
              ? { ShardIteratorType: "AFTER_SEQUENCE_NUMBER", SequenceNumber: checkpoint.sequenceNumber }
              : { ShardIteratorType: "TRIM_HORIZON" }),
          }),
        );
        if (ShardIterator === undefined) continue;
        iterator = ShardIterator;
      }
      let page: GetRecordsCommandOutput;
      try {
        page = await this.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      } catch (error) {
        this.iterators.delete(shardId);
        if (error instanceof ExpiredIteratorException) continue;
        throw error;
      }
      const records = page.Records ?? [];
      if (records.length > 0) {
        // Until the page is applied the iterator is dropped, so a failure resumes at the checkpoint.
        this.iterators.delete(shardId);
        const applied = await this.applyPage(records, (sequenceNumber) =>
          this.deps.checkpoints.set(this.key, streamArn, shardId, { sequenceNumber }),
        );
        progressed ||= applied > 0;
        if (applied < records.length) return progressed;
      }
      if (page.NextShardIterator === undefined) {
        const { sequenceNumber } = this.deps.checkpoints.get(this.key, streamArn, shardId);
        this.deps.checkpoints.set(this.key, streamArn, shardId, {
          ...(sequenceNumber !== undefined && { sequenceNumber }),
          finished: true,
        });
        this.iterators.delete(shardId);
        this.shardsRefreshedAt = 0;
      } else {
        this.iterators.set(shardId, page.NextShardIterator);
      }
    }
    return progressed;
  }

  /**
   * Applies a page of stream records: records of different items side by side (up to
   * APPLY_CONCURRENCY), records of one item strictly in stream order. The checkpoint follows the
   * longest fully applied prefix of the page, so a crash or an error re-offers only records at or
   * after the first unapplied one, and the last-writer-wins condition refuses those already in.
   * Returns how many records of the prefix were applied.
   */
  private async applyPage(records: StreamRecord[], checkpoint: (sequenceNumber: string) => void): Promise<number> {
    const byItem = new Map<string, number[]>();
    for (const [index, record] of records.entries()) {
      const key = record.dynamodb?.Keys?.id?.S ?? `#${index}`;
      const queue = byItem.get(key);
      if (queue === undefined) byItem.set(key, [index]);
      else queue.push(index);
    }
    const done = new Array<boolean>(records.length).fill(false);
    let prefix = 0;
    let checkpointedPrefix = 0;
    let checkpointedAt = 0;
    const advance = (force: boolean) => {
      while (prefix < records.length && done[prefix]) prefix += 1;
      const sequenceNumber = records[prefix - 1]?.dynamodb?.SequenceNumber;
      if (prefix === checkpointedPrefix || sequenceNumber === undefined) return;
      // Checkpoint writes are batched: at most one per CHECKPOINT_EVERY_MS, and one at the end.
      if (force || Date.now() - checkpointedAt >= CHECKPOINT_EVERY_MS) {
        checkpoint(sequenceNumber);
        checkpointedPrefix = prefix;
        checkpointedAt = Date.now();
      }
    };
    const queues = [...byItem.values()];
    let failure: unknown;
    const worker = async () => {
      for (let queue = queues.shift(); queue !== undefined; queue = queues.shift()) {
        for (const index of queue) {
          if (failure !== undefined || this.deps.isPaused() || this.stopped) return;
          try {
            await this.apply(records[index] as StreamRecord);
          } catch (error) {
            failure ??= error;
            return;
          }
          done[index] = true;
          advance(false);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(APPLY_CONCURRENCY, queues.length) }, worker));
    advance(true);
    if (failure !== undefined) throw failure;
    return prefix;
  }

  private count(outcome: ApplyOutcome, event: string): void {
    this.counts[outcome] += 1;
    this.deps.metrics.records.inc({
      source_region: this.deps.source.region,
      target_region: this.deps.target.region,
      event,
      outcome,
    });
  }

  private observeLag(writtenAtMs: number): void {
    const lagMs = Math.max(0, Date.now() - writtenAtMs);
    this.deps.metrics.lag.observe(
      { source_region: this.deps.source.region, target_region: this.deps.target.region },
      lagMs / 1000,
    );
    if (this.lagSamples.length >= LAG_SAMPLES_KEPT) this.lagSamples.shift();
    this.lagSamples.push(lagMs);
    this.lastAppliedAt = new Date().toISOString();
  }

  async apply(record: StreamRecord): Promise<ApplyOutcome> {
    const event = record.eventName ?? "UNKNOWN";
    const outcome = await this.applyChange(record);
    this.count(outcome, event);
    return outcome;
  }

  private async applyChange(record: StreamRecord): Promise<ApplyOutcome> {
    const { source, target } = this.deps;
    const decision = decide(record, {
      source: source.region,
      ...(this.deps.stampAtStream === true && { stampAtStream: true }),
    });
    if (decision.kind === "skip") return decision.reason;
    if (decision.kind === "put") {
      if ((await this.write(this.targetTable, replicatedPut(target.tableName, decision))) === "superseded")
        return "superseded";
    } else {
      // The source's TTL (or a DeleteItem by hand) deleted the version and left nothing: its
      // tombstone goes into the source as well, so an older write from elsewhere loses there too.
      // Every pair from this source does so; the first to land wins, the rest find it there.
      const id = decision.key.id?.S ?? "";
      if ((await this.write(this.sourceTable, replicatedDelete(source.tableName, decision))) === "applied")
        this.deps.noteTombstone?.(source.region, id, decision.stamp);
      if ((await this.write(this.targetTable, replicatedDelete(target.tableName, decision))) === "superseded")
        return "superseded";
      this.deps.noteTombstone?.(target.region, id, decision.stamp);
    }
    // The lag of a write runs from when it was applied in the source; a deletion's from its record.
    this.observeLag(
      decision.kind === "put"
        ? Number(stampMicros(decision.stamp.time) / 1000n)
        : (record.dynamodb?.ApproximateCreationDateTime?.getTime() ?? Date.now()),
    );
    return "applied";
  }

  /** One conditional PutItem: applied, or superseded where its condition (last writer wins) failed. */
  private async write(table: DynamoDBClient, input: PutItemCommandInput): Promise<"applied" | "superseded"> {
    try {
      await table.send(new PutItemCommand(input));
      return "applied";
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return "superseded";
      throw error;
    }
  }
}

export interface ReplicatorOptions {
  replicas: ReplicaEndpoint[];
  checkpoints: CheckpointStore;
  isolated?: Iterable<string>;
  pollIntervalMs: number;
  stampAtStream?: boolean;
  /** Tests only: TOMBSTONE_RETENTION_MS otherwise. */
  tombstoneRetentionMs?: number;
  /** Tests only: TOMBSTONE_SWEEP_MS otherwise. */
  tombstoneSweepMs?: number;
}

/** Every direction between every pair of regions: the local global table. */
export class Replicator {
  readonly metrics = new ReplicationMetrics();
  private readonly isolated: Set<string>;
  private readonly pairs: PairReplicator[] = [];
  private readonly runs: Promise<void>[] = [];
  private readonly tombstones = new Map<string, ReplicaTombstones>();
  private readonly tombstoneErrors = new Map<string, string | null>();
  private readonly tombstoneClients: DynamoDBClient[] = [];
  private readonly tombstoneRetentionMs: number;
  private readonly tombstoneSweepMs: number;
  private stopped = false;
  private wake: (() => void) | undefined;

  constructor(options: ReplicatorOptions) {
    this.isolated = new Set(options.isolated ?? []);
    this.tombstoneRetentionMs = options.tombstoneRetentionMs ?? TOMBSTONE_RETENTION_MS;
    this.tombstoneSweepMs = options.tombstoneSweepMs ?? TOMBSTONE_SWEEP_MS;
    for (const replica of options.replicas) {
      const client = new DynamoDBClient({ ...CLIENT_OPTIONS, endpoint: replica.endpoint, region: replica.region });
      this.tombstoneClients.push(client);
      this.tombstones.set(replica.region, new ReplicaTombstones(replica.region, client, replica.tableName));
    }
    for (const source of options.replicas) {
      for (const target of options.replicas) {
        if (source.region === target.region) continue;
        this.pairs.push(
          new PairReplicator({
            source,
            target,
            checkpoints: options.checkpoints,
            metrics: this.metrics,
            ...(options.stampAtStream === true && { stampAtStream: true }),
            isPaused: () => this.isolated.has(source.region) || this.isolated.has(target.region),
            pollIntervalMs: options.pollIntervalMs,
            noteTombstone: (region, id, stamp) => this.tombstones.get(region)?.note(id, stamp),
          }),
        );
      }
    }
  }

  start(): void {
    for (const pair of this.pairs) this.runs.push(pair.run());
    this.runs.push(this.keepTombstones());
  }

  /**
   * Removes, every tombstoneSweepMs, each replica's tombstones that no write still in flight can
   * need (ReplicaTombstones): those of versions applied more than tombstoneRetentionMs before the
   * oldest caught-up poll among the pairs into the replica. A replica with a pair paused (an
   * isolated region) or not caught up yet keeps all of its tombstones until it is.
   */
  private async keepTombstones(): Promise<void> {
    while (!this.stopped) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.tombstoneSweepMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (this.stopped) return;
      for (const [region, tombstones] of this.tombstones) {
        try {
          await tombstones.findExisting();
          const into = this.pairs.map((pair) => pair.status()).filter((pair) => pair.target === region);
          if (into.some((pair) => pair.paused || pair.caughtUpAt === null)) continue;
          const caughtUpMs = Math.min(...into.map((pair) => Date.parse(pair.caughtUpAt ?? "")));
          await tombstones.removeBefore(BigInt(Math.floor(caughtUpMs - this.tombstoneRetentionMs)) * 1000n);
          this.tombstoneErrors.set(region, null);
        } catch (error) {
          this.tombstoneErrors.set(region, error instanceof Error ? `${error.name}: ${error.message}` : String(error));
        }
      }
    }
  }

  isolate(region: string): void {
    this.isolated.add(region);
  }

  rejoin(region: string): void {
    this.isolated.delete(region);
  }

  status(): ReplicationStatus {
    return {
      isolated: [...this.isolated],
      pairs: this.pairs.map((pair) => pair.status()),
      tombstones: [...this.tombstones.values()].map((tombstones) => ({
        region: tombstones.region,
        held: tombstones.size,
        removed: tombstones.removed,
        lastError: this.tombstoneErrors.get(tombstones.region) ?? null,
      })),
    };
  }

  resetLag(): void {
    for (const pair of this.pairs) pair.resetLag();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    for (const pair of this.pairs) pair.stop();
    await Promise.all(this.runs);
    for (const pair of this.pairs) pair.close();
    for (const client of this.tombstoneClients) client.destroy();
  }
}
