import type { ServerResponse } from "node:http";
import { REPLICATION_STAMP, TABLE } from "../../shared/table.js";
import { type ApplyClock, canonicalJson, stampMicros, stampOf, type WireItem } from "./stamps.js";

/**
 * Multi-Region strong consistency (MRSC) for the local cloud, in each region's data endpoint.
 * docs/CONSISTENCY.md#how-the-local-cloud-does-mrsc gives the reasoning; in short, for a write or
 * a strongly consistent read of one item:
 *
 * 1. claim: every region is asked for a lease on the item (a write's is exclusive, a read's is
 *    shared); without leases from a majority, this region among them, the request fails:
 *    ReplicatedWriteConflictException when another region's write holds the item, else
 *    InternalServerError (this region cannot reach the majority).
 * 2. catch up: the item is read from every region holding a lease; the latest version (by its
 *    stamp) is copied to those that lack it. A majority's latest is every acknowledged write's,
 *    because each acknowledged write is held by a majority and two majorities share a region.
 * 3. apply here (the client's own request, with its condition), then copy the new version to the
 *    others holding a lease; acknowledged once a majority holds it. Short of a majority it is
 *    rolled back (the old version restored under a newer stamp) and the client gets
 *    InternalServerError: it was never acknowledged, and no lease-holder keeps it.
 *
 * Leases live in each endpoint's memory. A lease never lapses while a copy under it is being
 * applied, and a restarted endpoint grants none until a whole lease has passed, so a lease granted
 * before a crash cannot be granted twice.
 */

export interface Peer {
  region: string;
  /** The peer's data endpoint. */
  url: string;
}

export interface MajoritySettings {
  /** The other regions' data endpoints. */
  peers: Peer[];
  tableName: string;
  /** How long a lease holds without being released; 5 s, above the function's 3 s store budget. */
  leaseMs?: number;
  /** Cut off from the other regions (the isolate fault): calls out fail, calls in are refused. */
  isolated?: boolean;
  /** How often an endpoint that may have missed writes copies newer versions from its peers. */
  catchUpIntervalMs?: number;
}

export const PEER_PATH = "/mrsc/";
export const DEFAULT_LEASE_MS = 5000;
const PEER_TIMEOUT_MS = 2000;
/** How many items one `scan` answer carries at most. */
export const SCAN_PAGE = 200;
/** How long a request waits for this region's own earlier request of the same item. */
const LOCAL_WAIT_MS = 2000;
const LOCAL_WAIT_STEP_MS = 5;

/** A DynamoDB error for the client: the type its SDK raises by name. */
export interface MajorityError {
  status: number;
  type: "ReplicatedWriteConflictException" | "InternalServerError" | "ValidationException";
  message: string;
}

type LeaseMode = "write" | "read";
type ClaimAnswer = { granted: true } | { granted: false; reason: "held" | "starting" };

interface LeaseEntry {
  writer?: { owner: string; until: number };
  readers: Map<string, number>;
  /** Copies being applied under the writer's lease: it cannot lapse under them. */
  applying: number;
}

/** One region's leases on items, in memory. */
export class Leases {
  private readonly entries = new Map<string, LeaseEntry>();
  private readonly grantsFrom: number;

  constructor(
    private readonly leaseMs: number,
    private readonly now: () => number = Date.now,
  ) {
    // Whatever this process granted before a crash has lapsed by then.
    this.grantsFrom = now() + leaseMs;
  }

  claim(key: string, owner: string, mode: LeaseMode): ClaimAnswer {
    const now = this.now();
    if (now < this.grantsFrom) return { granted: false, reason: "starting" };
    const entry: LeaseEntry = this.entries.get(key) ?? { readers: new Map(), applying: 0 };
    const writer = entry.writer;
    const writerLive = writer !== undefined && writer.owner !== owner && (writer.until > now || entry.applying > 0);
    if (writerLive) return { granted: false, reason: "held" };
    for (const [reader, until] of entry.readers) if (until <= now) entry.readers.delete(reader);
    if (mode === "write") {
      if ([...entry.readers.keys()].some((reader) => reader !== owner)) return { granted: false, reason: "held" };
      entry.writer = { owner, until: now + this.leaseMs };
    } else {
      if (writer !== undefined && !writerLive && writer.owner !== owner) delete entry.writer;
      entry.readers.set(owner, now + this.leaseMs);
    }
    this.entries.set(key, entry);
    return { granted: true };
  }

  /** The owners holding a lease on the item now. */
  holders(key: string): string[] {
    const entry = this.entries.get(key);
    if (entry === undefined) return [];
    return [...(entry.writer === undefined ? [] : [entry.writer.owner]), ...entry.readers.keys()];
  }

  release(key: string, owner: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    if (entry.writer?.owner === owner) delete entry.writer;
    entry.readers.delete(owner);
    if (entry.writer === undefined && entry.readers.size === 0 && entry.applying === 0) this.entries.delete(key);
  }

  /** Runs `apply` while `owner` holds a lease on the item, which cannot lapse meanwhile; `held: false` when it holds none. */
  async underLease<T>(
    key: string,
    owner: string,
    apply: () => Promise<T>,
  ): Promise<{ held: false } | { held: true; value: T }> {
    const entry = this.entries.get(key);
    const now = this.now();
    const asWriter = entry?.writer?.owner === owner && (entry.writer.until > now || entry.applying > 0);
    // A read's lease copies the latest version to a replica that lacks it; readers share.
    const asReader = (entry?.readers.get(owner) ?? 0) > now;
    if (entry === undefined || !(asWriter || asReader)) return { held: false };
    entry.applying++;
    try {
      return { held: true, value: await apply() };
    } finally {
      entry.applying--;
    }
  }
}

/** A call to this region's own DynamoDB Local: the operation, its JSON body, its answer. */
export type UpstreamCall = (
  operation: string,
  body: Record<string, unknown>,
) => Promise<{ status: number; body: Record<string, unknown> }>;

/** A call of the peer protocol (PEER_PATH + op), as a region's data endpoint or the witness receives it. */
export type PeerRequest =
  | { op: "claim"; key: string; owner: string; mode: LeaseMode }
  | { op: "release"; key: string; owner: string }
  | { op: "read"; key: string; itemKey: WireItem }
  | { op: "apply"; key: string; owner: string; itemKey: WireItem; item: WireItem | null }
  | { op: "scan"; startKey?: WireItem }
  | { op: "behind" }
  | { op: "status" };

/** Every kind of peer-protocol message: a known one with the wrong fields is malformed (400), not unknown (404). */
const PEER_OPERATIONS: ReadonlySet<string> = new Set<PeerRequest["op"]>([
  "claim",
  "release",
  "read",
  "apply",
  "scan",
  "behind",
  "status",
]);

const errorName = (body: Record<string, unknown>) =>
  String(body.__type ?? "")
    .split("#")
    .pop() ?? "";

/** An item's applied time in µs; -1 for no item or no stamp: what "latest" compares. */
export const stampValue = (item: WireItem | undefined): bigint => {
  const stamp = stampOf(item);
  return stamp === undefined ? -1n : stampMicros(stamp.time);
};

/**
 * Resolves once `needed` of the calls answered with success (`ok`), or once every call has
 * answered: a majority protocol waits for the fastest majority, never for the slowest region (a
 * region whose DynamoDB Local is restarting or frozen would otherwise hold every write of every
 * region for a whole peer timeout). Each entry is the call's answer, undefined where none came yet.
 */
export function firstMajority<T>(
  calls: Promise<T>[],
  ok: (answer: T) => boolean,
  needed: number,
): Promise<(T | undefined)[]> {
  const answers: (T | undefined)[] = calls.map(() => undefined);
  if (calls.length === 0) return Promise.resolve(answers);
  return new Promise((resolve) => {
    let succeeded = 0;
    let settled = 0;
    calls.forEach((call, index) => {
      void call
        .catch(() => undefined)
        .then((answer) => {
          answers[index] = answer;
          settled += 1;
          if (answer !== undefined && ok(answer)) succeeded += 1;
          if (succeeded === needed || settled === calls.length) resolve([...answers]);
        });
    });
  });
}

/**
 * The majority protocol of one region: the coordinator side (write, read, catch up) and the
 * peer side (answer another region's claim, read, apply, scan).
 */
export class MajorityReplication {
  readonly leases: Leases;
  private isolated: boolean;
  private sequence = 0;
  private mayBeBehind = true;
  private readonly catchUpTimer: NodeJS.Timeout;
  private catchingUp: Promise<void> | undefined;

  constructor(
    private readonly region: string,
    private readonly settings: MajoritySettings,
    private readonly upstream: UpstreamCall,
    private readonly clock: ApplyClock,
  ) {
    this.leases = new Leases(settings.leaseMs ?? DEFAULT_LEASE_MS);
    this.isolated = settings.isolated === true;
    this.catchUpTimer = setInterval(() => void this.catchUpIfBehind(), settings.catchUpIntervalMs ?? 1000);
    this.catchUpTimer.unref();
  }

  get majority(): number {
    return Math.floor((this.settings.peers.length + 1) / 2) + 1;
  }

  setIsolated(isolated: boolean): void {
    if (this.isolated && !isolated) this.mayBeBehind = true;
    this.isolated = isolated;
  }

  close(): void {
    clearInterval(this.catchUpTimer);
  }

  /** The item key a request names, or undefined when it names none this table knows. */
  static itemKeyOf(operation: string, body: Record<string, unknown>): WireItem | undefined {
    const source = operation === "PutItem" ? body.Item : body.Key;
    const value = (source as WireItem | undefined)?.[TABLE.partitionKey];
    return value === undefined ? undefined : { [TABLE.partitionKey]: value };
  }

  private keyText(itemKey: WireItem): string {
    return itemKeyText(this.settings.tableName, itemKey);
  }

  /** A write of one item: acknowledged (the local answer) only once a majority holds it. */
  async write<T extends { status: number }>(
    itemKey: WireItem,
    applyHere: () => Promise<T>,
  ): Promise<T | MajorityError> {
    const key = this.keyText(itemKey);
    const owner = this.newOwner();
    const claim = await this.claimMajority(key, owner, "write");
    if ("status" in claim) return claim;
    const holders = claim.holders;
    // What is still on its way to each holder (undefined: nothing): its lease is given back only after.
    const inFlight: (Promise<unknown> | undefined)[] = holders.map(() => undefined);
    try {
      const latest = await this.catchUp(key, itemKey, owner, holders);
      if ("status" in latest) return latest;
      const previous = latest.item;
      if (previous !== undefined) {
        const stamp = stampOf(previous);
        if (stamp !== undefined) this.clock.observe(stamp.time);
      }
      const here = await this.leases.underLease(key, owner, applyHere);
      if (!here.held) return this.unreachable("its lease on the item lapsed before the write");
      if (here.value.status >= 400) return here.value;
      const written = await this.readHere(itemKey);
      if (written === "failed") return this.unreachable("it could not read back its own write");
      const copying = holders.map((peer) =>
        peer === undefined ? Promise.resolve(false) : this.applyAt(peer, key, owner, itemKey, written ?? null),
      );
      holders.forEach((peer, index) => {
        const copy = copying[index];
        if (peer === undefined || copy === undefined) return;
        const landing = copy.then((applied) => {
          if (inFlight[index] === landing) inFlight[index] = undefined;
          // A holder that did not take the version (too slow, its DynamoDB Local down) copies it later.
          if (!applied) void this.callPeer(peer, { op: "behind" });
        });
        inFlight[index] = landing;
      });
      const copies = await firstMajority(copying, Boolean, this.majority - 1);
      const holding = 1 + copies.filter((copy) => copy === true).length;
      if (holding >= this.majority) {
        // A region that granted no lease in time has not got the write: it copies it from its peers.
        this.settings.peers.forEach((peer, index) => {
          if (holders[index] === undefined) void this.callPeer(peer, { op: "behind" });
        });
        return here.value;
      }
      await this.rollBack(
        key,
        owner,
        itemKey,
        previous,
        holders.filter((_peer, index) => copies[index] === true),
      );
      return this.unreachable(
        `only ${holding} of ${this.settings.peers.length + 1} replicas took the write, and it was rolled back`,
      );
    } finally {
      claim.session.closed = true;
      await this.releaseAll(key, owner, holders, inFlight);
    }
  }

  /** A strongly consistent read: the latest version a majority holds, then answered here. */
  async read<T>(itemKey: WireItem, readHere: () => Promise<T>): Promise<T | MajorityError> {
    const key = this.keyText(itemKey);
    const owner = this.newOwner();
    const claim = await this.claimMajority(key, owner, "read");
    if ("status" in claim) return claim;
    try {
      const latest = await this.catchUp(key, itemKey, owner, claim.holders);
      if ("status" in latest) return latest;
      return await readHere();
    } finally {
      claim.session.closed = true;
      await this.releaseAll(key, owner, claim.holders);
    }
  }

  /** Answers another region's call; undefined when this endpoint is cut off and must not answer. */
  async answerPeer(request: PeerRequest): Promise<Record<string, unknown> | undefined> {
    if (this.isolated) return undefined;
    switch (request.op) {
      case "claim":
        return this.leases.claim(request.key, request.owner, request.mode);
      case "release":
        this.leases.release(request.key, request.owner);
        return {};
      case "read": {
        const item = await this.readHere(request.itemKey);
        if (item === "failed") throw new Error("this region's DynamoDB Local did not answer");
        return item === undefined ? {} : { item };
      }
      case "apply": {
        const outcome = await this.leases.underLease(request.key, request.owner, () =>
          this.applyHere(request.itemKey, request.item),
        );
        return { applied: outcome.held && outcome.value };
      }
      case "behind":
        this.mayBeBehind = true;
        return {};
      case "status":
        return { behind: this.behind };
      case "scan": {
        const answer = await this.upstream("Scan", {
          TableName: this.settings.tableName,
          ConsistentRead: true,
          Limit: SCAN_PAGE,
          ...(request.startKey !== undefined && { ExclusiveStartKey: request.startKey }),
        });
        if (answer.status >= 400) throw new Error(`scan failed: ${errorName(answer.body)}`);
        return { items: answer.body.Items ?? [], next: answer.body.LastEvaluatedKey };
      }
    }
  }

  /** Whether this region may lack versions its peers hold: it is catching up, or will at its next check. */
  get behind(): boolean {
    return this.mayBeBehind || this.catchingUp !== undefined;
  }

  /** Whether this region's own requests hold the item's leases. */
  private heldHere(key: string): boolean {
    return this.leases.holders(key).every((holder) => holder.startsWith(`${this.region}/`));
  }

  private newOwner(): string {
    this.sequence += 1;
    return `${this.region}/${process.pid}/${this.sequence}`;
  }

  private unreachable(why: string): MajorityError {
    return {
      status: 500,
      type: "InternalServerError",
      message: `${this.region} cannot reach a majority of the table's replicas (${why}); the request was not applied`,
    };
  }

  /** Leases from a majority, this region's among them; `holders` lists the peers that granted (undefined: not granted). */
  private async claimMajority(
    key: string,
    owner: string,
    mode: LeaseMode,
  ): Promise<{ holders: (Peer | undefined)[]; session: { closed: boolean } } | MajorityError> {
    let here = this.leases.claim(key, owner, mode);
    // Writes of one item within one region wait their turn, as in a single region, where the
    // second one's condition then decides; only another region's write is a conflict.
    for (let waited = 0; !here.granted && here.reason === "held" && this.heldHere(key) && waited < LOCAL_WAIT_MS; ) {
      await new Promise((resolve) => setTimeout(resolve, LOCAL_WAIT_STEP_MS));
      waited += LOCAL_WAIT_STEP_MS;
      here = this.leases.claim(key, owner, mode);
    }
    if (!here.granted) {
      return here.reason === "held"
        ? this.conflict()
        : this.unreachable("it restarted less than a lease ago and grants no lease yet");
    }
    const claims = this.settings.peers.map((peer) =>
      this.callPeer(peer, { op: "claim", key, owner, mode }).then((answer) => answer as ClaimAnswer | undefined),
    );
    const answers = await firstMajority(claims, (answer) => answer?.granted === true, this.majority - 1);
    const holders = this.settings.peers.map((peer, index) => (answers[index]?.granted === true ? peer : undefined));
    const session = { closed: false };
    // A lease granted after the majority was counted joins the holders while the request runs
    // (so the write is copied there too), and is given back at once after.
    this.settings.peers.forEach((peer, index) => {
      if (answers[index] !== undefined) return;
      void claims[index]?.then((late) => {
        if (late?.granted !== true) return;
        if (session.closed) void this.callPeer(peer, { op: "release", key, owner });
        else holders[index] = peer;
      });
    });
    const granted = 1 + holders.filter((peer) => peer !== undefined).length;
    if (granted >= this.majority) return { holders, session };
    session.closed = true;
    await this.releaseAll(key, owner, holders);
    const contested = answers.some((answer) => answer?.granted === false && answer.reason === "held");
    return contested ? this.conflict() : this.unreachable(`${granted} of ${this.settings.peers.length + 1} answered`);
  }

  private conflict(): MajorityError {
    return {
      status: 400,
      type: "ReplicatedWriteConflictException",
      message:
        "The request was rejected because one or more items in the request are being modified by a request in another Region.",
    };
  }

  /** The latest version among the lease-holders, copied to every holder (this region included) that lacks it. */
  private async catchUp(
    key: string,
    itemKey: WireItem,
    owner: string,
    holders: (Peer | undefined)[],
  ): Promise<{ item: WireItem | undefined } | MajorityError> {
    const reads = holders.map(async (peer) =>
      peer === undefined
        ? ("absent" as const)
        : ((await this.callPeer(peer, { op: "read", key, itemKey })) ?? "failed"),
    );
    const here = await this.readHere(itemKey);
    if (here === "failed") return this.unreachable("its own DynamoDB Local did not answer");
    // A majority's latest version is the latest acknowledged one: the slowest holder is not waited for.
    const there = (await firstMajority(reads, (answer) => typeof answer !== "string", this.majority - 1)).map(
      (answer) => answer ?? ("failed" as const),
    );
    const read = 1 + there.filter((answer) => typeof answer !== "string").length;
    if (read < this.majority) return this.unreachable(`only ${read} replicas could be read`);
    const versions = [
      here,
      ...there.map((answer) => (typeof answer === "string" ? undefined : (answer.item as WireItem | undefined))),
    ];
    const latest = versions.reduce((best, item) => (stampValue(item) > stampValue(best) ? item : best), undefined);
    if (latest === undefined) return { item: undefined };
    const behind = stampValue(latest);
    if (stampValue(here) < behind && !(await this.applyHere(itemKey, latest))) {
      return this.unreachable("its own DynamoDB Local did not take the latest version");
    }
    await Promise.all(
      holders.map(async (peer, index) => {
        const answer = there[index];
        if (peer === undefined || answer === undefined || typeof answer === "string") return;
        if (stampValue(answer.item as WireItem | undefined) < behind)
          await this.applyAt(peer, key, owner, itemKey, latest);
      }),
    );
    return { item: latest };
  }

  /** The item as this region's DynamoDB Local holds it, stamps included. */
  private async readHere(itemKey: WireItem): Promise<WireItem | undefined | "failed"> {
    try {
      const answer = await this.upstream("GetItem", {
        TableName: this.settings.tableName,
        Key: itemKey,
        ConsistentRead: true,
      });
      if (answer.status >= 400) return "failed";
      return answer.body.Item as WireItem | undefined;
    } catch {
      this.mayBeBehind = true;
      return "failed";
    }
  }

  /**
   * Puts a version here if it is newer than what is here (or deletes the item, for `null`).
   * True when this region now holds it.
   */
  private async applyHere(itemKey: WireItem, item: WireItem | null): Promise<boolean> {
    try {
      const answer =
        item === null
          ? await this.upstream("DeleteItem", { TableName: this.settings.tableName, Key: itemKey })
          : await this.upstream("PutItem", {
              TableName: this.settings.tableName,
              Item: item,
              ConditionExpression: "attribute_not_exists(#time) OR #time < :time",
              ExpressionAttributeNames: { "#time": REPLICATION_STAMP.time },
              ExpressionAttributeValues: { ":time": { N: stampOf(item)?.time ?? "0" } },
            });
      if (answer.status < 400) return true;
      // Already there, or a newer version is: this region holds the version or a later one.
      return errorName(answer.body) === "ConditionalCheckFailedException";
    } catch {
      this.mayBeBehind = true;
      return false;
    }
  }

  private async applyAt(peer: Peer, key: string, owner: string, itemKey: WireItem, item: WireItem | null) {
    const answer = await this.callPeer(peer, { op: "apply", key, owner, itemKey, item });
    return answer?.applied === true;
  }

  /**
   * Restores the version a failed write replaced, under a newer stamp, wherever the write landed,
   * so no replica keeps a write that was never acknowledged (an item it created is deleted).
   */
  private async rollBack(
    key: string,
    owner: string,
    itemKey: WireItem,
    previous: WireItem | undefined,
    landed: (Peer | undefined)[],
  ): Promise<void> {
    const restored =
      previous === undefined
        ? null
        : {
            ...previous,
            [REPLICATION_STAMP.time]: { N: this.clock.next().time },
            [REPLICATION_STAMP.region]: { S: this.region },
          };
    await this.leases.underLease(key, owner, () => this.applyHere(itemKey, restored));
    await Promise.all(
      landed.map((peer) => (peer === undefined ? undefined : this.applyAt(peer, key, owner, itemKey, restored))),
    );
  }

  /**
   * Gives the leases back: here at once, at each holder once what was sent to it has landed (a
   * copy applied after its lease was released would be refused). Waits only for the holders that
   * have nothing on its way: a slow holder gets its release later, and holds no one else up.
   */
  private async releaseAll(
    key: string,
    owner: string,
    holders: (Peer | undefined)[],
    inFlight: (Promise<unknown> | undefined)[] = [],
  ): Promise<void> {
    this.leases.release(key, owner);
    const released = holders.map((peer, index) => {
      if (peer === undefined) return undefined;
      const release = () => this.callPeer(peer, { op: "release", key, owner });
      const pending = inFlight[index];
      if (pending === undefined) return release();
      void pending.then(release);
      return undefined;
    });
    await Promise.all(released);
  }

  /** Copies, from every peer, versions newer than this region's: after a start, an isolation or a failed call. */
  private async catchUpIfBehind(): Promise<void> {
    if (!this.mayBeBehind || this.isolated || this.catchingUp !== undefined) return;
    this.mayBeBehind = false;
    this.catchingUp = (async () => {
      // What this region holds, by stamp: only newer versions are copied (a conditional put of
      // every item, thousands after a drill, kept a rejoining region too busy to answer its peers).
      const heldHere = await this.stampsHere();
      if (heldHere === undefined) {
        this.mayBeBehind = true;
        return;
      }
      for (const peer of this.settings.peers) {
        let startKey: WireItem | undefined;
        do {
          const page = await this.callPeer(peer, { op: "scan", ...(startKey !== undefined && { startKey }) });
          if (page === undefined) {
            this.mayBeBehind = true;
            break;
          }
          for (const item of (page.items ?? []) as WireItem[]) {
            const itemKey = MajorityReplication.itemKeyOf("PutItem", { Item: item });
            if (itemKey === undefined || stampOf(item) === undefined) continue;
            if (stampValue(item) <= (heldHere.get(canonicalJson(itemKey)) ?? -1n)) continue;
            if (!(await this.applyHere(itemKey, item))) this.mayBeBehind = true;
          }
          startKey = page.next as WireItem | undefined;
        } while (startKey !== undefined);
      }
    })().finally(() => {
      this.catchingUp = undefined;
    });
    await this.catchingUp;
  }

  /** The stamp of every item this region holds, by key; undefined when its DynamoDB Local did not answer. */
  private async stampsHere(): Promise<Map<string, bigint> | undefined> {
    const stamps = new Map<string, bigint>();
    let startKey: WireItem | undefined;
    try {
      do {
        const answer = await this.upstream("Scan", {
          TableName: this.settings.tableName,
          ConsistentRead: true,
          ...(startKey !== undefined && { ExclusiveStartKey: startKey }),
        });
        if (answer.status >= 400) return undefined;
        for (const item of (answer.body.Items ?? []) as WireItem[]) {
          const itemKey = MajorityReplication.itemKeyOf("PutItem", { Item: item });
          if (itemKey !== undefined) stamps.set(canonicalJson(itemKey), stampValue(item));
        }
        startKey = answer.body.LastEvaluatedKey as WireItem | undefined;
      } while (startKey !== undefined);
    } catch {
      return undefined;
    }
    return stamps;
  }

  /** One call to a peer's endpoint; undefined when it cannot be made or answered (isolation included). */
  private async callPeer(peer: Peer, request: PeerRequest): Promise<Record<string, unknown> | undefined> {
    if (this.isolated) return undefined;
    return postToPeer(peer, this.region, request);
  }
}

/** The text that names one item in the peer protocol (`key`): its table and its key. */
export function itemKeyText(tableName: string, itemKey: WireItem): string {
  return `${tableName}/${canonicalJson(itemKey)}`;
}

/** A peer call's body as the endpoint received it, or undefined when it is not one. */
export function parsePeerRequest(op: string, body: unknown): PeerRequest | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const request = body as Record<string, unknown>;
  if (request.op !== op) return undefined;
  const text = (name: string) => typeof request[name] === "string";
  const object = (name: string) => typeof request[name] === "object" && request[name] !== null;
  switch (op) {
    case "claim":
      return text("key") && text("owner") && (request.mode === "write" || request.mode === "read")
        ? (request as PeerRequest)
        : undefined;
    case "release":
      return text("key") && text("owner") ? (request as PeerRequest) : undefined;
    case "read":
      return text("key") && object("itemKey") ? (request as PeerRequest) : undefined;
    case "apply":
      return text("key") && text("owner") && object("itemKey") && (request.item === null || object("item"))
        ? (request as PeerRequest)
        : undefined;
    case "scan":
      return request.startKey === undefined || object("startKey") ? (request as PeerRequest) : undefined;
    case "behind":
    case "status":
      return request as PeerRequest;
    default:
      return undefined;
  }
}

/**
 * One peer-protocol message from `from` (a region, or the witness) to `peer`; undefined when it
 * cannot be sent or is not answered with a 2xx in time.
 */
export async function postToPeer(
  peer: Peer,
  from: string,
  request: PeerRequest,
): Promise<Record<string, unknown> | undefined> {
  try {
    const response = await fetch(`${peer.url}${PEER_PATH}${request.op}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-calcburst-peer": from },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(PEER_TIMEOUT_MS),
    });
    if (!response.ok) {
      await response.body?.cancel();
      return undefined;
    }
    return (await response.json()) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * Sends a peer-protocol answer: JSON, or, when the answerer is cut off (undefined), no answer at
 * all: the connection is dropped, as a partition would, so the caller cannot tell "refused" from
 * "unreachable".
 */
export function sendPeerAnswer(response: ServerResponse, answer: Record<string, unknown> | undefined): void {
  if (answer === undefined) {
    response.destroy();
    return;
  }
  const body = JSON.stringify(answer);
  response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  response.end(body);
}

/**
 * The answer to a peer call parsePeerRequest refused: 400 naming the message when `op` is one the
 * protocol has (its fields are wrong), else 404 with `notServed`. `op` undefined: the server takes
 * no peer calls at all.
 */
export function sendPeerRefusal(response: ServerResponse, op: string | undefined, notServed: string): void {
  const malformed = op !== undefined && PEER_OPERATIONS.has(op);
  const body = JSON.stringify({
    message: malformed
      ? `a malformed ${op} message: its body is not JSON with the fields the peer protocol's ${op} has`
      : notServed,
  });
  response.writeHead(malformed ? 400 : 404, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
  });
  response.end(body);
}
