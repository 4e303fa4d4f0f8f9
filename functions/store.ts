import type { NumberValue } from "@aws-sdk/lib-dynamodb";
import { type CalculationItem, TABLE } from "../shared/table.js";
import type { DocumentClientHandle } from "./commons/clients.js";
import { describeError } from "./commons/errors.js";
import type { FunctionMetrics } from "./commons/metrics.js";

export type PutOutcome = { created: true } | { created: false; existing: CalculationItem };

export interface BatchPutOutcome {
  /** Ids DynamoDB acknowledged. */
  written: Set<string>;
  /** Ids still unprocessed after every retry, with the last reason. */
  unacknowledged: Map<string, string>;
}

/** What the handler needs from its data layer. */
export interface CalculationStore {
  /** Writes the item unless a live item with its id exists; then returns that item. */
  putIfAbsent(item: CalculationItem): Promise<PutOutcome>;
  /** Writes items (distinct ids) with BatchWriteItem, retrying unprocessed ones. */
  putBatch(items: readonly CalculationItem[]): Promise<BatchPutOutcome>;
  /** Live items by id, read strongly consistent from this region's replica. */
  getMany(ids: readonly string[]): Promise<Map<string, CalculationItem>>;
  get(id: string): Promise<CalculationItem | undefined>;
  /** Reads the health sentinel; rejects when the table cannot be read. */
  readSentinel(signal: AbortSignal): Promise<{ present: boolean }>;
}

export interface RetryPolicy {
  /** Attempts of one BatchWriteItem chunk, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /**
   * Wall time for one store operation (a put, a read, a whole batch write), calls included.
   * Each call already carries the SDK's own retries, so without a deadline a hung table would
   * cost attempts × SDK retries × timeout, and run into the function's timeout.
   */
  budgetMs: number;
}

/** At most 1.55 s of backoff, and 3 s per operation in all: well inside the function timeout. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 25, maxDelayMs: 800, budgetMs: 3000 };

/** BatchWriteItem's limit. */
export const BATCH_WRITE_CHUNK = 25;
/** BatchGetItem's limit. */
const BATCH_GET_CHUNK = 100;

const THROTTLING_ERRORS = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
]);

/** Client faults are final, except throttling; network errors and server faults are retried. */
export function isRetryable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (THROTTLING_ERRORS.has(error.name)) return true;
  return (error as { $fault?: string }).$fault !== "client";
}

/** Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"). */
export function backoffDelay(attempt: number, policy: Omit<RetryPolicy, "budgetMs">, random: () => number): number {
  return Math.floor(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt));
}

type StoredAttributes = Record<string, unknown>;

function numberText(value: unknown): string {
  return typeof value === "object" && value !== null && "value" in value
    ? String((value as NumberValue).value)
    : String(value);
}

export interface DynamoStoreOptions {
  tableName: string;
  connect: () => Promise<DocumentClientHandle>;
  metrics: FunctionMetrics;
  retry?: RetryPolicy;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  nowMs?: () => number;
}

export class DynamoCalculationStore implements CalculationStore {
  private readonly retry: RetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly nowMs: () => number;

  constructor(private readonly options: DynamoStoreOptions) {
    this.retry = options.retry ?? DEFAULT_RETRY_POLICY;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.nowMs = options.nowMs ?? Date.now;
  }

  /** Aborts the calls of one operation once the budget is spent. */
  private budget(): AbortSignal {
    return AbortSignal.timeout(this.retry.budgetMs);
  }

  async putIfAbsent(item: CalculationItem): Promise<PutOutcome> {
    const { client, lib } = await this.options.connect();
    const abortSignal = this.budget();
    const command = new lib.PutCommand({
      TableName: this.options.tableName,
      Item: this.toAttributes(item, lib),
      // An item past its TTL may linger until DynamoDB deletes it; its key is free again.
      ConditionExpression: "attribute_not_exists(#id) OR #expiresAt < :now",
      ExpressionAttributeNames: { "#id": TABLE.partitionKey, "#expiresAt": TABLE.ttlAttribute },
      ExpressionAttributeValues: { ":now": Math.floor(this.nowMs() / 1000) },
    });
    try {
      await this.timed("PutItem", () => client.send(command, { abortSignal }));
      return { created: true };
    } catch (error) {
      if ((error as Error).name !== "ConditionalCheckFailedException") throw error;
      // Only retries and conflicts get here, so the extra read stays off the common path.
      const existing = await this.get(item.id, abortSignal);
      if (existing === undefined) throw new Error(`item ${item.id} expired or vanished after a failed condition`);
      return { created: false, existing };
    }
  }

  async putBatch(items: readonly CalculationItem[]): Promise<BatchPutOutcome> {
    const outcome: BatchPutOutcome = { written: new Set(), unacknowledged: new Map() };
    const handle = await this.options.connect();
    const deadline = this.nowMs() + this.retry.budgetMs;
    // The chunks are independent, so they are written side by side: 100 items cost one
    // round-trip of latency, not four.
    const chunks: CalculationItem[][] = [];
    for (let start = 0; start < items.length; start += BATCH_WRITE_CHUNK) {
      chunks.push(items.slice(start, start + BATCH_WRITE_CHUNK));
    }
    await Promise.all(chunks.map((chunk) => this.writeChunk(chunk, handle, outcome, deadline)));
    return outcome;
  }

  private async writeChunk(
    chunk: readonly CalculationItem[],
    { client, lib }: DocumentClientHandle,
    outcome: BatchPutOutcome,
    deadline: number,
  ): Promise<void> {
    const table = this.options.tableName;
    let pending = chunk.map((item) => ({ PutRequest: { Item: this.toAttributes(item, lib) } }));
    let lastReason = "unprocessed by DynamoDB";
    for (let attempt = 0; attempt < this.retry.maxAttempts && pending.length > 0; attempt++) {
      if (attempt > 0) {
        const delay = backoffDelay(attempt, this.retry, this.random);
        if (this.nowMs() + delay >= deadline) {
          lastReason = `${lastReason}; gave up at the ${this.retry.budgetMs} ms write budget`;
          break;
        }
        await this.sleep(delay);
      }
      try {
        const abortSignal = AbortSignal.timeout(Math.max(1, deadline - this.nowMs()));
        const response = await this.timed("BatchWriteItem", () =>
          client.send(new lib.BatchWriteCommand({ RequestItems: { [table]: pending } }), { abortSignal }),
        );
        const unprocessed = response.UnprocessedItems?.[table] ?? [];
        const unprocessedIds = new Set(unprocessed.map((r) => String(r.PutRequest?.Item?.id)));
        for (const request of pending) {
          const id = String(request.PutRequest.Item.id);
          if (!unprocessedIds.has(id)) outcome.written.add(id);
        }
        pending = pending.filter((r) => unprocessedIds.has(String(r.PutRequest.Item.id)));
        lastReason = "unprocessed by DynamoDB after retries (throughput exceeded)";
      } catch (error) {
        lastReason = describeError(error);
        if (!isRetryable(error)) break;
      }
    }
    for (const request of pending) outcome.unacknowledged.set(String(request.PutRequest.Item.id), lastReason);
  }

  async getMany(ids: readonly string[]): Promise<Map<string, CalculationItem>> {
    const found = new Map<string, CalculationItem>();
    if (ids.length === 0) return found;
    const { client, lib } = await this.options.connect();
    const table = this.options.tableName;
    const abortSignal = this.budget();
    for (let start = 0; start < ids.length; start += BATCH_GET_CHUNK) {
      let keys: Record<string, unknown>[] = ids.slice(start, start + BATCH_GET_CHUNK).map((id) => ({ id }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt >= this.retry.maxAttempts) throw new Error("BatchGetItem left keys unprocessed after retries");
        if (attempt > 0) await this.sleep(backoffDelay(attempt, this.retry, this.random));
        const response = await this.timed("BatchGetItem", () =>
          client.send(new lib.BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } }), {
            abortSignal,
          }),
        );
        for (const attributes of response.Responses?.[table] ?? []) {
          const item = this.fromAttributes(attributes);
          if (this.isLive(item)) found.set(item.id, item);
        }
        keys = response.UnprocessedKeys?.[table]?.Keys ?? [];
      }
    }
    return found;
  }

  async get(id: string, abortSignal: AbortSignal = this.budget()): Promise<CalculationItem | undefined> {
    const { client, lib } = await this.options.connect();
    const response = await this.timed("GetItem", () =>
      client.send(new lib.GetCommand({ TableName: this.options.tableName, Key: { id }, ConsistentRead: true }), {
        abortSignal,
      }),
    );
    if (response.Item === undefined) return undefined;
    const item = this.fromAttributes(response.Item);
    return this.isLive(item) ? item : undefined;
  }

  async readSentinel(signal: AbortSignal): Promise<{ present: boolean }> {
    const { client, lib } = await this.options.connect();
    const response = await this.timed("GetItem", () =>
      client.send(new lib.GetCommand({ TableName: this.options.tableName, Key: { id: TABLE.sentinelId } }), {
        abortSignal: signal,
      }),
    );
    return { present: response.Item !== undefined };
  }

  private isLive(item: CalculationItem): boolean {
    return item.expiresAt * 1000 > this.nowMs();
  }

  private async timed<T>(command: string, call: () => Promise<T>): Promise<T> {
    const stop = this.options.metrics.dynamodbCallDuration.startTimer({ command });
    try {
      const result = await call();
      stop({ outcome: "ok" });
      return result;
    } catch (error) {
      stop({ outcome: (error as Error).name === "ConditionalCheckFailedException" ? "conditional_failed" : "error" });
      throw error;
    }
  }

  private toAttributes(item: CalculationItem, lib: DocumentClientHandle["lib"]): Record<string, unknown> {
    return {
      ...item,
      operands: item.operands.map((operand) => lib.NumberValue.from(operand)),
      result: lib.NumberValue.from(item.result),
    };
  }

  private fromAttributes(attributes: StoredAttributes): CalculationItem {
    const operands = attributes.operands as unknown[];
    const item: CalculationItem = {
      id: String(attributes.id),
      operation: String(attributes.operation),
      operands: operands.map(numberText),
      result: numberText(attributes.result),
      region: String(attributes.region),
      createdAt: String(attributes.createdAt),
      expiresAt: Number(numberText(attributes.expiresAt)),
      requestHash: String(attributes.requestHash),
    };
    if (attributes.precision !== undefined) item.precision = Number(numberText(attributes.precision));
    return item;
  }
}
