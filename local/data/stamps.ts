import { REPLICATION_STAMP } from "../../shared/table.js";

/**
 * What the regional data endpoint does to DynamoDB's JSON protocol as it passes: stamp every
 * item a write puts with when and where it was applied, and hide those stamps from whatever a
 * read, a returned old image or a failed condition hands back. Pure functions over the
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
  /** Epoch seconds with six decimals (microseconds). */
  time: string;
  region: string;
}

/**
 * A hybrid clock per region: wall-clock microseconds, but never the same value twice and never
 * backwards, so one region's writes carry unique, increasing times (as one region applies its
 * writes in one order) whatever the clock's resolution.
 */
export class ApplyClock {
  private lastMicros = 0;

  constructor(
    readonly region: string,
    private readonly nowMicros: () => number = () => Math.floor((performance.timeOrigin + performance.now()) * 1000),
  ) {}

  next(): Stamp {
    this.lastMicros = Math.max(this.nowMicros(), this.lastMicros + 1);
    return { time: formatMicros(this.lastMicros), region: this.region };
  }
}

export function formatMicros(micros: number): string {
  const seconds = Math.floor(micros / 1_000_000);
  return `${seconds}.${String(micros - seconds * 1_000_000).padStart(6, "0")}`;
}

/** The stamp an item carries, or undefined for an item written past the endpoint. */
export function stampOf(item: WireItem | undefined): Stamp | undefined {
  const time = item?.[REPLICATION_STAMP.time]?.N;
  const region = item?.[REPLICATION_STAMP.region]?.S;
  return time === undefined || region === undefined ? undefined : { time, region };
}

function stampItem(item: unknown, stamp: Stamp): void {
  if (typeof item !== "object" || item === null) return;
  const attributes = item as WireItem;
  attributes[REPLICATION_STAMP.time] = { N: stamp.time };
  attributes[REPLICATION_STAMP.region] = { S: stamp.region };
}

const STAMP_NAMES = {
  "#calcburstStampTime": REPLICATION_STAMP.time,
  "#calcburstStampRegion": REPLICATION_STAMP.region,
};
const STAMP_ASSIGNMENT = "#calcburstStampTime = :calcburstStampTime, #calcburstStampRegion = :calcburstStampRegion";

/** Adds the stamp to an UpdateExpression's SET clause (or adds one), with its own placeholders. */
function stampUpdate(update: WireBody, stamp: Stamp): string | undefined {
  if (update.AttributeUpdates !== undefined) {
    return "the legacy AttributeUpdates parameter is not supported by the local data endpoint; use UpdateExpression";
  }
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
  return undefined;
}

/** Operations whose request the endpoint refuses, with the reason DynamoDB's client will show. */
const REFUSED: Record<string, string> = {
  ExecuteStatement: "PartiQL writes cannot be stamped by the local data endpoint; use the item API",
  BatchExecuteStatement: "PartiQL writes cannot be stamped by the local data endpoint; use the item API",
  ExecuteTransaction: "PartiQL writes cannot be stamped by the local data endpoint; use the item API",
};

/** Operations whose request the endpoint reads: those that put items, and those it refuses. */
export const INSPECTED_OPERATIONS = new Set([
  "PutItem",
  "UpdateItem",
  "BatchWriteItem",
  "TransactWriteItems",
  ...Object.keys(REFUSED),
]);

/**
 * Stamps every item a write request puts, in place (one stamp for the whole request: it is applied
 * as one step). Returns why the request is refused, when it is.
 */
export function stampRequest(operation: string, body: WireBody, stamp: Stamp): string | undefined {
  const refused = REFUSED[operation];
  if (refused !== undefined) return refused;
  switch (operation) {
    case "PutItem":
      stampItem(body.Item, stamp);
      return undefined;
    case "UpdateItem":
      return stampUpdate(body, stamp);
    case "BatchWriteItem":
      for (const requests of Object.values((body.RequestItems as Record<string, WireBody[]>) ?? {})) {
        for (const request of requests) stampItem((request.PutRequest as WireBody | undefined)?.Item, stamp);
      }
      return undefined;
    case "TransactWriteItems":
      for (const entry of (body.TransactItems as WireBody[]) ?? []) {
        stampItem((entry.Put as WireBody | undefined)?.Item, stamp);
        if (entry.Update !== undefined) {
          const refusal = stampUpdate(entry.Update as WireBody, stamp);
          if (refusal !== undefined) return refusal;
        }
      }
      return undefined;
    default:
      return undefined;
  }
}

function hideIn(item: unknown): void {
  if (typeof item !== "object" || item === null) return;
  delete (item as WireItem)[REPLICATION_STAMP.time];
  delete (item as WireItem)[REPLICATION_STAMP.region];
}

/**
 * Removes the stamps from every item a response (or an error) hands back, in place: what
 * reads return, the old image a write returns (ReturnValues, a failed condition's Item,
 * a cancelled transaction's reasons).
 */
export function hideStamps(body: WireBody): void {
  hideIn(body.Item);
  hideIn(body.Attributes);
  for (const item of (body.Items as unknown[]) ?? []) hideIn(item);
  const responses = body.Responses;
  if (Array.isArray(responses)) {
    for (const response of responses) hideIn((response as WireBody).Item);
  } else if (typeof responses === "object" && responses !== null) {
    for (const items of Object.values(responses as Record<string, unknown[]>)) for (const item of items) hideIn(item);
  }
  for (const reason of (body.CancellationReasons as WireBody[]) ?? []) hideIn(reason.Item);
}
