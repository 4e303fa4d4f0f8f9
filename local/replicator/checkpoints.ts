import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";

interface ShardCheckpoint {
  /** The last sequence number applied to the target; absent until one is. */
  sequenceNumber?: string;
  /** The shard is closed and fully applied. */
  finished?: boolean;
}

interface CheckpointFile {
  version: 1;
  /** Keyed by `<source>-><target>`, then by stream ARN and shard id. */
  pairs: Record<string, { streamArn: string; shards: Record<string, ShardCheckpoint> }>;
}

/**
 * Where each replication pair has got to in each shard, kept on disk. Written after a record
 * is applied, by write-then-rename, so a killed replicator resumes after the last record it
 * applied: nothing is skipped, and a record applied just before the kill is offered again
 * only to be refused by the last-writer-wins condition.
 */
export class CheckpointStore {
  private state: CheckpointFile;

  constructor(private readonly file: string) {
    this.state = existsSync(file)
      ? (JSON.parse(readFileSync(file, "utf8")) as CheckpointFile)
      : { version: 1, pairs: {} };
  }

  private pair(pairKey: string, streamArn: string) {
    let pair = this.state.pairs[pairKey];
    // A new stream (a recreated table) starts over.
    if (pair === undefined || pair.streamArn !== streamArn) {
      pair = { streamArn, shards: {} };
      this.state.pairs[pairKey] = pair;
    }
    return pair;
  }

  get(pairKey: string, streamArn: string, shardId: string): ShardCheckpoint {
    return this.pair(pairKey, streamArn).shards[shardId] ?? {};
  }

  set(pairKey: string, streamArn: string, shardId: string, checkpoint: ShardCheckpoint): void {
    this.pair(pairKey, streamArn).shards[shardId] = checkpoint;
    mkdirSync(path.dirname(this.file), { recursive: true });
    const temporary = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(this.state));
    renameSync(temporary, this.file);
  }
}
