import type { BatchPutOutcome, CalculationStore, PutOutcome } from "../functions/store.js";
import type { CalculationItem } from "../shared/table.js";

/** Enough for every id the benchmark reads back; more would measure heap growth, not the handler. */
const MAX_ITEMS = 10_000;

/**
 * Stands in for DynamoDB in the handler benchmark only, so it measures the handler's own CPU
 * (validation, engine, serialisation) and not a network round-trip.
 */
export class InMemoryStore implements CalculationStore {
  private readonly items = new Map<string, CalculationItem>();

  private remember(item: CalculationItem): void {
    if (this.items.size >= MAX_ITEMS) {
      const oldest = this.items.keys().next().value;
      if (oldest !== undefined && oldest !== "bench-seed") this.items.delete(oldest);
    }
    this.items.set(item.id, item);
  }

  async putIfAbsent(item: CalculationItem): Promise<PutOutcome> {
    const existing = this.items.get(item.id);
    if (existing !== undefined) return { created: false, existing };
    this.remember(item);
    return { created: true };
  }

  async putEachIfAbsent(items: readonly CalculationItem[]): Promise<Map<string, BatchPutOutcome>> {
    const outcomes = new Map<string, BatchPutOutcome>();
    for (const item of items) outcomes.set(item.id, await this.putIfAbsent(item));
    return outcomes;
  }

  async get(id: string): Promise<CalculationItem | undefined> {
    return this.items.get(id);
  }

  async readSentinel(): Promise<{ present: boolean }> {
    return { present: true };
  }
}
