import { REPLICATION_STAMP } from "../../shared/table.js";

/**
 * What the regional data endpoint does to DynamoDB's JSON protocol as it passes: stamp what a
 * write puts with when and where it was applied, guard it so it lands only after every write of
 * the item already applied, and hide the stamps and the replicator's tombstones from whatever a
 * read, a stream, a returned old image or a failed condition hands back. Pure functions over the
 * wire bodies (DynamoDB JSON 1.0), so they are tested without a server.
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

/**
 * The attribute that marks a tombstone: what the replicator leaves in a replica in place of a
 * deleted version (local/replicator/tombstones.ts), so that an older write arriving later loses to
 * the deletion, as it does on a global table. Under the `aws:rep:` prefix like the stamps, and
 * hidden from clients with them.
 */
export const TOMBSTONE = "aws:rep:deleted";

/** Whether an item is a tombstone. */
export function isTombstone(item: WireItem | undefined): boolean {
  return item?.[TOMBSTONE]?.BOOL === true;
}

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

function object(value: unknown, where: string): WireBody {
  if (!isObject(value)) throw new Malformed(`${where} must be an object`);
  return value;
}

/**
 * A client's expression, parenthesised so the endpoint's own clause can follow it. Refused when its
 * parentheses do not balance (DynamoDB refuses it): `a) OR (b` would otherwise become valid once
 * wrapped, and its OR would take the endpoint's clause (the write guard, the tombstone filter)
 * out of force. DynamoDB's expressions have no string literals, so every parenthesis counts.
 */
function enclosed(expression: string, where: string): string {
  let depth = 0;
  for (const character of expression) {
    if (character === "(") depth += 1;
    else if (character === ")") depth -= 1;
    if (depth < 0) break;
  }
  if (depth !== 0) throw new Malformed(`${where}: the expression's parentheses do not balance`);
  return `(${expression})`;
}

/** The endpoint's own placeholders begin so; a client's may not, or the endpoint's would replace them silently. */
const RESERVED_PLACEHOLDER = /^[#:]calcburst/i;

function ownPlaceholdersOnly(body: WireBody, where: string): void {
  for (const field of ["ExpressionAttributeNames", "ExpressionAttributeValues"]) {
    const placeholders = body[field];
    if (!isObject(placeholders)) continue;
    const taken = Object.keys(placeholders).find((name) => RESERVED_PLACEHOLDER.test(name));
    if (taken !== undefined) {
      throw new Malformed(
        `${where}: the placeholder ${taken} is reserved by the local data endpoint; name it otherwise`,
      );
    }
  }
}

const TIME = "#calcburstStampTime";
const REGION = "#calcburstStampRegion";
const DELETED = "#calcburstTombstone";
const TIME_VALUE = ":calcburstStampTime";
const REGION_VALUE = ":calcburstStampRegion";
/**
 * The guard every stamped write carries: the item holds no stamp yet, or an earlier one. So a
 * write stamped before another write of the item was applied (a concurrent one, or a replicated
 * one) fails instead of landing after it, and the endpoint stamps it again and retries.
 */
const GUARD = `(attribute_not_exists(${TIME}) OR ${TIME} < ${TIME_VALUE})`;

/** One Put or Update the endpoint stamps and guards: a PutItem or UpdateItem body, or a transaction's entry. */
interface GuardedEntry {
  body: WireBody;
  kind: "put" | "update";
  /** The client asked for the item a failed condition found; otherwise the endpoint's own request for it is hidden. */
  clientWantsOld: boolean;
}

function guarded(body: WireBody, kind: "put" | "update", where: string): GuardedEntry {
  if (typeof body.TableName !== "string") throw new Malformed(`${where}: TableName must be a string`);
  if (body.Expected !== undefined || body.ConditionalOperator !== undefined) {
    throw new Malformed(
      "the legacy Expected parameter is not supported by the local data endpoint; use ConditionExpression",
    );
  }
  if (body.ConditionExpression !== undefined && typeof body.ConditionExpression !== "string") {
    throw new Malformed(`${where}: ConditionExpression must be a string`);
  }
  if (kind === "put") object(body.Item, `${where}.Item`);
  else {
    object(body.Key, `${where}.Key`);
    if (body.AttributeUpdates !== undefined) {
      throw new Malformed(
        "the legacy AttributeUpdates parameter is not supported by the local data endpoint; use UpdateExpression",
      );
    }
    if (body.UpdateExpression !== undefined && typeof body.UpdateExpression !== "string") {
      throw new Malformed(`${where}: UpdateExpression must be a string`);
    }
    // SET and REMOVE are reserved words, so outside a placeholder (#set, :set) each can only be
    // its clause's keyword.
    const assignment = `${TIME} = ${TIME_VALUE}, ${REGION} = ${REGION_VALUE}`;
    const expression = typeof body.UpdateExpression === "string" ? body.UpdateExpression : "";
    const set = /(?<![#:\w])SET\b/i;
    const stamped = set.test(expression)
      ? expression.replace(set, `SET ${assignment},`)
      : `${expression} SET ${assignment}`.trim();
    // An update of a tombstone makes it an item again (an expired one, unless it sets `expiresAt`).
    const remove = /(?<![#:\w])REMOVE\b/i;
    body.UpdateExpression = remove.test(stamped)
      ? stamped.replace(remove, `REMOVE ${DELETED},`)
      : `${stamped} REMOVE ${DELETED}`;
  }
  const names =
    kind === "put"
      ? { [TIME]: REPLICATION_STAMP.time }
      : { [TIME]: REPLICATION_STAMP.time, [REGION]: REPLICATION_STAMP.region, [DELETED]: TOMBSTONE };
  if (body.ExpressionAttributeNames !== undefined)
    object(body.ExpressionAttributeNames, `${where}.ExpressionAttributeNames`);
  if (body.ExpressionAttributeValues !== undefined)
    object(body.ExpressionAttributeValues, `${where}.ExpressionAttributeValues`);
  ownPlaceholdersOnly(body, where);
  body.ExpressionAttributeNames = { ...(body.ExpressionAttributeNames as object), ...names };
  body.ConditionExpression =
    body.ConditionExpression === undefined
      ? GUARD
      : `${enclosed(body.ConditionExpression, `${where}.ConditionExpression`)} AND ${GUARD}`;
  const clientWantsOld = body.ReturnValuesOnConditionCheckFailure === "ALL_OLD";
  body.ReturnValuesOnConditionCheckFailure = "ALL_OLD";
  return { body, kind, clientWantsOld };
}

/** How an answer to a guarded write came out. */
export type WriteVerdict =
  /** Applied, or failed for the client's own reasons: the answer goes to the client. */
  | { kind: "final" }
  /** Only the guard failed: a later write of the item got there first. Stamp later than `after` and retry. */
  | { kind: "retry"; after: string };

const errorType = (body: WireBody) =>
  String(body.__type ?? "")
    .split("#")
    .pop() ?? "";

/**
 * A write the endpoint stamps: every Put and Update in it carries the applied time and the guard.
 * The same request is sent again, stamped anew, while only the guard fails.
 */
export class StampedWrite {
  constructor(
    readonly request: WireBody,
    private readonly entries: readonly GuardedEntry[],
  ) {}

  /** This attempt's stamp, on every entry (the item's attributes, or the SET's values) and in its guard. */
  stamp(stamp: Stamp): void {
    for (const entry of this.entries) {
      const values: WireBody = { ...(entry.body.ExpressionAttributeValues as object), [TIME_VALUE]: { N: stamp.time } };
      if (entry.kind === "put") {
        const item = entry.body.Item as WireItem;
        item[REPLICATION_STAMP.time] = { N: stamp.time };
        item[REPLICATION_STAMP.region] = { S: stamp.region };
      } else {
        values[REGION_VALUE] = { S: stamp.region };
      }
      entry.body.ExpressionAttributeValues = values;
    }
  }

  /** Whether DynamoDB's error answer means only the guard failed, and the latest stamp it found. */
  verdict(answer: WireBody, stamp: Stamp): WriteVerdict {
    const ours = stampMicros(stamp.time);
    const later = (item: unknown) => {
      const found = isObject(item) ? stampOf(item as WireItem) : undefined;
      return found !== undefined && stampMicros(found.time) >= ours ? found.time : undefined;
    };
    if (errorType(answer) === "ConditionalCheckFailedException") {
      const after = later(answer.Item);
      return after === undefined ? { kind: "final" } : { kind: "retry", after };
    }
    if (errorType(answer) !== "TransactionCanceledException" || !Array.isArray(answer.CancellationReasons)) {
      return { kind: "final" };
    }
    const items = Array.isArray(this.request.TransactItems) ? this.request.TransactItems : [];
    let after: string | undefined;
    for (const [index, reason] of answer.CancellationReasons.entries()) {
      if (!isObject(reason) || reason.Code === "None" || reason.Code === undefined) continue;
      const entry = items[index];
      const isGuarded =
        isObject(entry) && this.entries.some((one) => one.body === entry.Put || one.body === entry.Update);
      const found = reason.Code === "ConditionalCheckFailed" && isGuarded ? later(reason.Item) : undefined;
      // Any other failure is the client's: the transaction fails whatever the stamp.
      if (found === undefined) return { kind: "final" };
      after = after === undefined || stampMicros(found) > stampMicros(after) ? found : after;
    }
    return after === undefined ? { kind: "final" } : { kind: "retry", after };
  }

  /** Removes from an error answer the old items only the endpoint asked for. */
  hideUnaskedItems(answer: WireBody): void {
    if (isObject(answer) && this.entries.length === 1 && this.entries[0]?.clientWantsOld === false) delete answer.Item;
    const items = Array.isArray(this.request.TransactItems) ? this.request.TransactItems : [];
    for (const [index, reason] of (Array.isArray(answer.CancellationReasons)
      ? answer.CancellationReasons
      : []
    ).entries()) {
      const entry = items[index];
      const guardedEntry = this.entries.find(
        (one) => isObject(entry) && (one.body === entry.Put || one.body === entry.Update),
      );
      if (isObject(reason) && guardedEntry?.clientWantsOld === false) delete reason.Item;
    }
  }
}

/**
 * What a write request needs: stamping and its guard (a StampedWrite), nothing (a deletion, which
 * the replicator applies to the very version it removed), or a refusal. Anything else wrong with
 * the request is left to DynamoDB Local to refuse.
 */
export function planWrite(operation: string, body: unknown): StampedWrite | "pass" | Refusal {
  try {
    const request = object(body, "the request body");
    switch (operation) {
      case "PutItem":
        return new StampedWrite(request, [guarded(request, "put", "PutItem")]);
      case "UpdateItem":
        return new StampedWrite(request, [guarded(request, "update", "UpdateItem")]);
      case "TransactWriteItems": {
        if (!Array.isArray(request.TransactItems)) throw new Malformed("TransactItems must be a list");
        const entries = request.TransactItems.flatMap((entry, index): GuardedEntry[] => {
          const one = object(entry, `TransactItems[${index}]`);
          if (one.Put !== undefined)
            return [guarded(object(one.Put, `TransactItems[${index}].Put`), "put", `TransactItems[${index}]`)];
          if (one.Update !== undefined) {
            return [guarded(object(one.Update, `TransactItems[${index}].Update`), "update", `TransactItems[${index}]`)];
          }
          return [];
        });
        return new StampedWrite(request, entries);
      }
      case "BatchWriteItem":
        for (const [name, requests] of Object.entries(object(request.RequestItems, "RequestItems"))) {
          if (!Array.isArray(requests)) throw new Malformed(`RequestItems.${name} must be a list`);
          for (const [index, entry] of requests.entries()) {
            if (object(entry, `RequestItems.${name}[${index}]`).PutRequest !== undefined) {
              throw new Malformed(
                "BatchWriteItem puts are not supported by the local data endpoint: a batch's items cannot carry the condition that orders a region's writes of an item; use PutItem or TransactWriteItems",
              );
            }
          }
        }
        return "pass";
      default:
        return "pass";
    }
  } catch (error) {
    if (error instanceof Malformed) return { type: "ValidationException", message: error.message };
    throw error;
  }
}

/** JSON with object keys sorted: one text per value, whatever order the attributes came in. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (isObject(value)) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonicalJson(inner)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Reads whose answers hold items, which the endpoint keeps tombstones out of. */
export const READ_OPERATIONS = new Set(["GetItem", "BatchGetItem", "TransactGetItems", "Scan", "Query"]);

/**
 * Whether a read needs planRead: a Scan or a Query always, an item read only when it names the
 * attributes it wants (most do not, and pass untouched without being parsed).
 */
export function readNeedsPlan(operation: string, raw: Buffer): boolean {
  return (
    operation === "Scan" ||
    operation === "Query" ||
    (READ_OPERATIONS.has(operation) && (raw.includes("ProjectionExpression") || raw.includes("AttributesToGet")))
  );
}

/** A read that names the attributes it wants names the tombstone marker too, so its answer still tells a tombstone. */
function namingTheMarker(request: WireBody, where: string): void {
  if (request.ProjectionExpression !== undefined) {
    if (typeof request.ProjectionExpression !== "string")
      throw new Malformed(`${where}: ProjectionExpression must be a string`);
    if (request.ExpressionAttributeNames !== undefined)
      object(request.ExpressionAttributeNames, `${where}.ExpressionAttributeNames`);
    ownPlaceholdersOnly(request, where);
    request.ProjectionExpression = `${request.ProjectionExpression}, ${DELETED}`;
    request.ExpressionAttributeNames = { ...(request.ExpressionAttributeNames as object), [DELETED]: TOMBSTONE };
  }
  if (Array.isArray(request.AttributesToGet) && !request.AttributesToGet.includes(TOMBSTONE)) {
    request.AttributesToGet = [...request.AttributesToGet, TOMBSTONE];
  }
}

const LEGACY_READ_PARAMETERS = ["ScanFilter", "QueryFilter", "KeyConditions", "AttributesToGet", "ConditionalOperator"];

/**
 * What a read (READ_OPERATIONS) needs so that no tombstone reaches the client: a Scan or Query
 * gets a filter that leaves tombstones out (so its Count and Select: COUNT are right too); an item
 * read that names its attributes gets the marker among them, so hideStamps can take the tombstone
 * out of the answer. A Scan or Query with legacy parameters is refused: DynamoDB takes no filter
 * expression beside them.
 */
export function planRead(operation: string, body: unknown): { request: WireBody } | Refusal {
  try {
    const request = object(body, "the request body");
    if (operation === "GetItem") namingTheMarker(request, "GetItem");
    else if (operation === "BatchGetItem") {
      for (const [name, entry] of Object.entries(object(request.RequestItems, "RequestItems"))) {
        namingTheMarker(object(entry, `RequestItems.${name}`), `RequestItems.${name}`);
      }
    } else if (operation === "TransactGetItems") {
      if (!Array.isArray(request.TransactItems)) throw new Malformed("TransactItems must be a list");
      for (const [index, entry] of request.TransactItems.entries()) {
        const get = object(entry, `TransactItems[${index}]`).Get;
        if (get !== undefined) namingTheMarker(object(get, `TransactItems[${index}].Get`), `TransactItems[${index}]`);
      }
    } else if (operation === "Scan" || operation === "Query") {
      const legacy = LEGACY_READ_PARAMETERS.find((name) => request[name] !== undefined);
      if (legacy !== undefined) {
        throw new Malformed(
          `the legacy ${legacy} parameter is not supported by the local data endpoint; use the expression parameters`,
        );
      }
      if (request.FilterExpression !== undefined && typeof request.FilterExpression !== "string") {
        throw new Malformed(`${operation}: FilterExpression must be a string`);
      }
      if (request.ExpressionAttributeNames !== undefined)
        object(request.ExpressionAttributeNames, `${operation}.ExpressionAttributeNames`);
      ownPlaceholdersOnly(request, operation);
      const visible = `attribute_not_exists(${DELETED})`;
      request.FilterExpression =
        request.FilterExpression === undefined
          ? visible
          : `${enclosed(request.FilterExpression, `${operation}.FilterExpression`)} AND ${visible}`;
      request.ExpressionAttributeNames = { ...(request.ExpressionAttributeNames as object), [DELETED]: TOMBSTONE };
    }
    return { request };
  } catch (error) {
    if (error instanceof Malformed) return { type: "ValidationException", message: error.message };
    throw error;
  }
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
  delete item[TOMBSTONE];
}

const tombstone = (item: unknown) => isObject(item) && isTombstone(item as WireItem);

/** Takes a tombstone out of `holder[field]` (as if the item were absent), and the stamps out of an item. */
function hideItemIn(holder: WireBody, field: string): void {
  if (tombstone(holder[field])) delete holder[field];
  else hideIn(holder[field]);
}

/**
 * Removes the stamps from every item a response (or an error) hands back, in place, and every
 * tombstone, as if its item were absent: what reads return, the old image a write returns
 * (ReturnValues, a failed condition's Item, a cancelled transaction's reasons). Stream records
 * keep their images, without the stamps and the marker.
 */
export function hideStamps(body: WireBody): void {
  hideItemIn(body, "Item");
  hideItemIn(body, "Attributes");
  if (Array.isArray(body.Items)) {
    const kept = body.Items.filter((item) => !tombstone(item));
    if (typeof body.Count === "number") body.Count -= body.Items.length - kept.length;
    body.Items = kept;
    for (const item of kept) hideIn(item);
  }
  const responses = body.Responses;
  if (Array.isArray(responses)) {
    for (const response of responses) if (isObject(response)) hideItemIn(response, "Item");
  } else if (isObject(responses)) {
    for (const [name, items] of Object.entries(responses)) {
      if (!Array.isArray(items)) continue;
      const kept = items.filter((item) => !tombstone(item));
      for (const item of kept) hideIn(item);
      responses[name] = kept;
    }
  }
  for (const reason of Array.isArray(body.CancellationReasons) ? body.CancellationReasons : []) {
    if (isObject(reason)) hideItemIn(reason, "Item");
  }
  for (const record of Array.isArray(body.Records) ? body.Records : []) {
    const change = isObject(record) ? record.dynamodb : undefined;
    if (isObject(change)) {
      hideIn(change.NewImage);
      hideIn(change.OldImage);
    }
  }
}
