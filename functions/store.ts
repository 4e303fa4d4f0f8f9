import type { NumberValue } from "@aws-sdk/lib-dynamodb";
import { type CalculationItem, TABLE } from "../shared/table.js";
import type { DocumentClientHandle } from "./commons/clients.js";
import { describeError } from "./commons/errors.js";
import type { FunctionMetrics } from "./commons/metrics.js";

/** What a conditional put found: it wrote the item, or a live item with that id was there already. */
export type PutOutcome = { created: true } | { created: false; existing: CalculationItem };

/**
 * One item of a batch: written, found, or not acknowledged by DynamoDB (with the last reason;
 * `replicatedConflict` when another region was writing the same id, which only MRSC reports).
 */
export type BatchPutOutcome = PutOutcome | { created: false; unacknowledged: string; replicatedConflict: boolean };

/**
 * An MRSC table refuses a write of an item that a write in another region is changing at the
 * same moment (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html#API_PutItem_Errors).
 * A client fault: retrying at once would meet the same write, so it is answered, not retried.
 */
export const REPLICATED_WRITE_CONFLICT = "ReplicatedWriteConflictException";

export function isReplicatedWriteConflict(error: unknown): boolean {
  return error instanceof Error && error.name === REPLICATED_WRITE_CONFLICT;
}

/** What the handler needs from its data layer. */
export interface CalculationStore {
  /**
   * Writes the item unless a live item with its id exists; then returns that item. Throws when
   * DynamoDB did not acknowledge the write.
   */
  putIfAbsent(item: CalculationItem): Promise<PutOutcome>;
  /**
   * The same conditional put for each item (distinct ids), side by side within one write budget.
   * Never throws: an item DynamoDB did not acknowledge is reported as such.
   */
  putEachIfAbsent(items: readonly CalculationItem[]): Promise<Map<string, BatchPutOutcome>>;
  /** A live item by id, read strongly consistent from this region's replica. */
  get(id: string): Promise<CalculationItem | undefined>;
  /** Reads the health sentinel; rejects when the table cannot be read. */
  readSentinel(signal: AbortSignal): Promise<{ present: boolean }>;
}

export interface RetryPolicy {
  /** Attempts of one conditional put, the first included (each carries the SDK's own retries too). */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /**
   * Wall time for one store operation (a put, a read, a whole batch), calls included.
   * Each call already carries the SDK's own retries, so without a deadline a hung table would
   * cost attempts × SDK retries × timeout, and run into the function's timeout.
   */
  budgetMs: number;
}

/** At most 1.55 s of backoff, and 3 s per operation in all: well inside the function timeout. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 25, maxDelayMs: 800, budgetMs: 3000 };

/**
 * A batch's conditional puts in flight at once: as many as the 25 a BatchWriteItem chunk held,
 * so 100 items take about four round-trips of latency and one instance never opens more
 * connections than the SDK's pool keeps (50).
 */
export const BATCH_PUT_CONCURRENCY = 25;

const THROTTLING_ERRORS = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
]);

const CONDITION_FAILED = "ConditionalCheckFailedException";

/** Client faults are final, except throttling; network errors and server faults are retried. */
export function isRetryable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === "AbortError" || error.name === CONDITION_FAILED || isReplicatedWriteConflict(error)) return false;
  if (THROTTLING_ERRORS.has(error.name)) return true;
  return (error as { $fault?: string }).$fault !== "client";
}

/** Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"). */
export function backoffDelay(attempt: number, policy: Omit<RetryPolicy, "budgetMs">, random: () => number): number {
  return Math.floor(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt));
}

function unacknowledged(error: unknown): BatchPutOutcome {
  return { created: false, unacknowledged: describeError(error), replicatedConflict: isReplicatedWriteConflict(error) };
}

type StoredAttributes = Record<string, unknown>;

/** A DynamoDB attribute value on the wire, as a failed condition returns the item it found. */
type WireValue = { S?: string; N?: string; L?: WireValue[]; M?: Record<string, WireValue> };

function numberText(value: unknown): string {
  return typeof value === "object" && value !== null && "value" in value
    ? String((value as NumberValue).value)
    : String(value);
}

/** The wire form of the few attribute types a calculation holds, with numbers kept as text. */
function fromWire(value: WireValue): unknown {
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return value.N;
  if (value.L !== undefined) return value.L.map(fromWire);
  if (value.M !== undefined) return Object.fromEntries(Object.entries(value.M).map(([k, v]) => [k, fromWire(v)]));
  return undefined;
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

  async putIfAbsent(item: CalculationItem): Promise<PutOutcome> {
    const handle = await this.options.connect();
    return this.conditionalPut(item, handle, this.nowMs() + this.retry.budgetMs);
  }

  async putEachIfAbsent(items: readonly CalculationItem[]): Promise<Map<string, BatchPutOutcome>> {
    const outcomes = new Map<string, BatchPutOutcome>();
    if (items.length === 0) return outcomes;
    let handle: DocumentClientHandle;
    try {
      handle = await this.options.connect();
    } catch (error) {
      for (const item of items) outcomes.set(item.id, unacknowledged(error));
      return outcomes;
    }
    const deadline = this.nowMs() + this.retry.budgetMs;
    const queue = [...items];
    const worker = async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
        const id = item.id;
        outcomes.set(
          id,
          await this.conditionalPut(item, handle, deadline).catch(
            (error: unknown): BatchPutOutcome => unacknowledged(error),
          ),
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(BATCH_PUT_CONCURRENCY, items.length) }, worker));
    return outcomes;
  }

  /**
   * One PutItem that succeeds only where no live item holds the id, retried with backoff while
   * the error is retryable and the deadline allows. A failed condition returns the item that
   * was there, read in the same atomic step, so a conflict costs no second read and cannot race
   * with the item's expiry. A retry whose first attempt was applied after all finds its own item.
   */
  private async conditionalPut(
    item: CalculationItem,
    { client, lib }: DocumentClientHandle,
    deadline: number,
  ): Promise<PutOutcome> {
    const nowSeconds = Math.floor(this.nowMs() / 1000);
    const command = new lib.PutCommand({
      TableName: this.options.tableName,
      Item: this.toAttributes(item, lib),
      // An item at or past its expiry may linger until DynamoDB deletes it; its key is free again
      // (the same instant isLive() calls it gone).
      ConditionExpression: "attribute_not_exists(#id) OR #expiresAt <= :now",
      ExpressionAttributeNames: { "#id": TABLE.partitionKey, "#expiresAt": TABLE.ttlAttribute },
      ExpressionAttributeValues: { ":now": nowSeconds },
      ReturnValuesOnConditionCheckFailure: "ALL_OLD",
    });
    for (let attempt = 0; ; attempt++) {
      try {
        const abortSignal = AbortSignal.timeout(Math.max(1, deadline - this.nowMs()));
        await this.timed("PutItem", () => client.send(command, { abortSignal }));
        return { created: true };
      } catch (error) {
        if ((error as Error).name === CONDITION_FAILED) {
          const found = (error as { Item?: Record<string, WireValue> }).Item;
          if (found === undefined) throw new Error(`the condition on ${item.id} failed, but DynamoDB returned no item`);
          const wire = Object.fromEntries(Object.entries(found).map(([name, value]) => [name, fromWire(value)]));
          return { created: false, existing: this.fromAttributes(wire) };
        }
        const delay = backoffDelay(attempt + 1, this.retry, this.random);
        const outOfTime = this.nowMs() + delay >= deadline;
        if (!isRetryable(error) || attempt + 1 >= this.retry.maxAttempts || outOfTime) {
          if (outOfTime && isRetryable(error)) {
            throw Object.assign(
              new Error(`${describeError(error)}; gave up at the ${this.retry.budgetMs} ms write budget`),
              { name: (error as Error).name },
            );
          }
          throw error;
        }
        await this.sleep(delay);
      }
    }
  }

  async get(id: string): Promise<CalculationItem | undefined> {
    const { client, lib } = await this.options.connect();
    const abortSignal = AbortSignal.timeout(this.retry.budgetMs);
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
      // Strongly consistent: on an MRSC table such a read needs the majority, as a write does, so
      // /health fails in a region cut off from it and Route 53 moves its traffic away.
      client.send(
        new lib.GetCommand({ TableName: this.options.tableName, Key: { id: TABLE.sentinelId }, ConsistentRead: true }),
        { abortSignal: signal },
      ),
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
      stop({ outcome: (error as Error).name === CONDITION_FAILED ? "conditional_failed" : "error" });
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
