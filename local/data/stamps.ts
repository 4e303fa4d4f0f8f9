import { REPLICATION_STAMP } from "../../shared/table.js";

/**
 * What the regional data endpoint does to DynamoDB's JSON protocol as it passes: find every item
 * a write touches (to stamp it, and to serialise writes of one item), stamp what a write puts
 * with when and where it was applied, and hide those stamps from whatever a read, a stream, a
 * returned old image or a failed condition hands back. Pure functions over the wire bodies
 * (DynamoDB JSON 1.0), so they are tested without a server.
 */

/** A DynamoDB attribute value on the wire; only the shapes the stamping touches are named. */
export interface WireValue {
  S?: string;
  N?: string;
  M?: WireItem;
  L?: WireValue[];
  [type: string]: unknown;
}
export type WireItem = Record<string, WireValue>;

/** A request or response body of the DynamoDB JSON protocol. */
type WireBody = Record<string, unknown>;

/** The stamp of one write. */
export interface Stamp {
  /** Epoch seconds with up to six decimals (microseconds), as DynamoDB normalises a Number. */
  time: string;
  region: string;
}

/** A stamp's time as whole microseconds, exact (a double cannot hold 16 digits and order them). */
export function stampMicros(time: string): bigint {
  const [seconds = "0", fraction = ""] = time.split(".");
  return BigInt(seconds) * 1_000_000n + BigInt(fraction.padEnd(6, "0").slice(0, 6) || "0");
}

/** Microseconds as DynamoDB writes the Number back: no trailing zeros, no point without a fraction. */
export function formatMicros(micros: number | bigint): string {
  const value = BigInt(micros);
  const seconds = value / 1_000_000n;
  const fraction = String(value % 1_000_000n)
    .padStart(6, "0")
    .replace(/0+$/, "");
  return fraction === "" ? String(seconds) : `${seconds}.${fraction}`;
}

/**
 * A hybrid clock per region: wall-clock microseconds, but never the same value twice, never
 * backwards, and never behind a replicated write this region has taken, so one region's writes
 * carry unique times that grow in the order it applies them, whatever the clocks' resolution.
 */
export class ApplyClock {
  private lastMicros = 0n;

  constructor(
    readonly region: string,
    private readonly nowMicros: () => number = () => Math.floor((performance.timeOrigin + performance.now()) * 1000),
  ) {}

  next(): Stamp {
    const now = BigInt(this.nowMicros());
    this.lastMicros = now > this.lastMicros ? now : this.lastMicros + 1n;
    return { time: formatMicros(this.lastMicros), region: this.region };
  }

  /** A replicated write's time: what this region applies next must come later. */
  observe(time: string): void {
    const micros = stampMicros(time);
    if (micros > this.lastMicros) this.lastMicros = micros;
  }
}

/** The stamp an item carries, or undefined for an item written past the endpoint. */
export function stampOf(item: WireItem | undefined): Stamp | undefined {
  const time = item?.[REPLICATION_STAMP.time]?.N;
  const region = item?.[REPLICATION_STAMP.region]?.S;
  return time === undefined || region === undefined ? undefined : { time, region };
}

/** One item a write request touches: its table, and what the request does to it. */
export type TouchedItem =
  | { table: string; kind: "put"; item: WireItem }
  | { table: string; kind: "update"; key: WireItem; update: WireBody }
  | { table: string; kind: "delete" | "check"; key: WireItem };

/** A request the endpoint cannot take, with the DynamoDB error type and message the client sees. */
export interface Refusal {
  type: "ValidationException" | "SerializationException";
  message: string;
}

const isObject = (value: unknown): value is WireBody =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Operations that change items, whose requests the endpoint reads. */
export const WRITE_OPERATIONS = new Set([
  "PutItem",
  "UpdateItem",
  "DeleteItem",
  "BatchWriteItem",
  "TransactWriteItems",
]);
/** PartiQL, which the endpoint lets through only when every statement is a read. */
export const STATEMENT_OPERATIONS = new Set(["ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"]);

class Malformed extends Error {}

function table(entry: WireBody, where: string): string {
  if (typeof entry.TableName !== "string") throw new Malformed(`${where}: TableName must be a string`);
  return entry.TableName;
}

function object(value: unknown, where: string): WireBody {
  if (!isObject(value)) throw new Malformed(`${where} must be an object`);
  return value;
}

function updateOf(entry: WireBody, where: string): TouchedItem {
  if (entry.AttributeUpdates !== undefined) {
    throw new Malformed(
      "the legacy AttributeUpdates parameter is not supported by the local data endpoint; use UpdateExpression",
    );
  }
  if (entry.UpdateExpression !== undefined && typeof entry.UpdateExpression !== "string") {
    throw new Malformed(`${where}: UpdateExpression must be a string`);
  }
  return {
    table: table(entry, where),
    kind: "update",
    key: object(entry.Key, `${where}.Key`) as WireItem,
    update: entry,
  };
}

/**
 * Every item a write request touches, or why the endpoint refuses it. The shape is checked as far
 * as stamping needs; anything else wrong is left to DynamoDB Local to refuse.
 */
export function touchedItems(operation: string, body: unknown): TouchedItem[] | Refusal {
  try {
    const request = object(body, "the request body");
    switch (operation) {
      case "PutItem":
        return [{ table: table(request, "PutItem"), kind: "put", item: object(request.Item, "Item") as WireItem }];
      case "UpdateItem":
        return [updateOf(request, "UpdateItem")];
      case "DeleteItem":
        return [{ table: table(request, "DeleteItem"), kind: "delete", key: object(request.Key, "Key") as WireItem }];
      case "BatchWriteItem":
        return Object.entries(object(request.RequestItems, "RequestItems")).flatMap(([name, requests]) => {
          if (!Array.isArray(requests)) throw new Malformed(`RequestItems.${name} must be a list`);
          return requests.map((entry, index): TouchedItem => {
            const where = `RequestItems.${name}[${index}]`;
            const one = object(entry, where);
            if (one.PutRequest !== undefined) {
              return {
                table: name,
                kind: "put",
                item: object(object(one.PutRequest, where).Item, `${where}.Item`) as WireItem,
              };
            }
            const key = object(object(one.DeleteRequest, `${where}.DeleteRequest`).Key, `${where}.Key`);
            return { table: name, kind: "delete", key: key as WireItem };
          });
        });
      case "TransactWriteItems": {
        if (!Array.isArray(request.TransactItems)) throw new Malformed("TransactItems must be a list");
        return request.TransactItems.map((entry, index): TouchedItem => {
          const where = `TransactItems[${index}]`;
          const one = object(entry, where);
          if (one.Put !== undefined) {
            const put = object(one.Put, `${where}.Put`);
            return { table: table(put, where), kind: "put", item: object(put.Item, `${where}.Item`) as WireItem };
          }
          if (one.Update !== undefined) return updateOf(object(one.Update, `${where}.Update`), where);
          const [kind, inner] =
            one.Delete !== undefined ? (["delete", one.Delete] as const) : (["check", one.ConditionCheck] as const);
          const entryBody = object(inner, where);
          return { table: table(entryBody, where), kind, key: object(entryBody.Key, `${where}.Key`) as WireItem };
        });
      }
      default:
        return [];
    }
  } catch (error) {
    if (error instanceof Malformed) return { type: "ValidationException", message: error.message };
    throw error;
  }
}

const STAMP_NAMES = {
  "#calcburstStampTime": REPLICATION_STAMP.time,
  "#calcburstStampRegion": REPLICATION_STAMP.region,
};
const STAMP_ASSIGNMENT = "#calcburstStampTime = :calcburstStampTime, #calcburstStampRegion = :calcburstStampRegion";

/** Stamps what the touched items will hold once the request is applied, in place (one stamp: one step). */
export function stampTouched(touched: readonly TouchedItem[], stamp: Stamp): void {
  for (const entry of touched) {
    if (entry.kind === "put") {
      entry.item[REPLICATION_STAMP.time] = { N: stamp.time };
      entry.item[REPLICATION_STAMP.region] = { S: stamp.region };
    } else if (entry.kind === "update") {
      const { update } = entry;
      const expression = typeof update.UpdateExpression === "string" ? update.UpdateExpression : "";
      // SET is a reserved word, so outside a placeholder (#set, :set) it can only be the clause keyword.
      const clause = /(?<![#:\w])SET\b/i;
      update.UpdateExpression = clause.test(expression)
        ? expression.replace(clause, `SET ${STAMP_ASSIGNMENT},`)
        : `${expression} SET ${STAMP_ASSIGNMENT}`.trim();
      update.ExpressionAttributeNames = { ...(update.ExpressionAttributeNames as object), ...STAMP_NAMES };
      update.ExpressionAttributeValues = {
        ...(update.ExpressionAttributeValues as object),
        ":calcburstStampTime": { N: stamp.time },
        ":calcburstStampRegion": { S: stamp.region },
      };
    }
  }
}

/** JSON with object keys sorted, so one key always gives one lock name. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (isObject(value)) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonicalJson(inner)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The name of the lock that serialises writes of one item: its table and its key attributes. */
export function lockName(entry: TouchedItem, keyAttributes: readonly string[]): string {
  const source = entry.kind === "put" ? entry.item : entry.key;
  const key = Object.fromEntries(keyAttributes.map((name) => [name, source[name] ?? null]));
  return `${entry.table}\u0000${canonicalJson(key)}`;
}

/** Whether a PartiQL request only reads: what the endpoint lets through (it could not stamp a write). */
export function onlyReads(operation: string, body: unknown): boolean {
  if (!isObject(body)) return false;
  const isRead = (statement: unknown) => typeof statement === "string" && /^\s*SELECT\b/i.test(statement);
  if (operation === "ExecuteStatement") return isRead(body.Statement);
  const list = operation === "BatchExecuteStatement" ? body.Statements : body.TransactStatements;
  return Array.isArray(list) && list.length > 0 && list.every((entry) => isObject(entry) && isRead(entry.Statement));
}

function hideIn(item: unknown): void {
  if (!isObject(item)) return;
  delete item[REPLICATION_STAMP.time];
  delete item[REPLICATION_STAMP.region];
}

/**
 * Removes the stamps from every item a response (or an error) hands back, in place: what
 * reads return, stream records, the old image a write returns (ReturnValues, a failed
 * condition's Item, a cancelled transaction's reasons).
 */
export function hideStamps(body: WireBody): void {
  hideIn(body.Item);
  hideIn(body.Attributes);
  for (const item of Array.isArray(body.Items) ? body.Items : []) hideIn(item);
  const responses = body.Responses;
  if (Array.isArray(responses)) {
    for (const response of responses) if (isObject(response)) hideIn(response.Item);
  } else if (isObject(responses)) {
    for (const items of Object.values(responses)) for (const item of Array.isArray(items) ? items : []) hideIn(item);
  }
  for (const reason of Array.isArray(body.CancellationReasons) ? body.CancellationReasons : []) {
    if (isObject(reason)) hideIn(reason.Item);
  }
  for (const record of Array.isArray(body.Records) ? body.Records : []) {
    const change = isObject(record) ? record.dynamodb : undefined;
    if (isObject(change)) {
      hideIn(change.NewImage);
      hideIn(change.OldImage);
    }
  }
}
