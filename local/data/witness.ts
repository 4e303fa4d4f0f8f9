import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import {
  DEFAULT_LEASE_MS,
  itemKeyText,
  Leases,
  MajorityReplication,
  PEER_PATH,
  type Peer,
  type PeerRequest,
  parsePeerRequest,
  postToPeer,
  SCAN_PAGE,
  sendPeerAnswer,
  sendPeerRefusal,
  stampValue,
} from "./majority.js";
import type { WireItem } from "./stamps.js";

/**
 * The witness of a two-region MRSC table in the local cloud (docs/CONSISTENCY.md#the-witness):
 * a lease-holder with no table. It answers the regions' peer protocol (local/data/majority.ts:
 * claim, release, read, apply, scan) as a third replica would, keeping the latest version of each
 * item it was given, and nothing else: no DynamoDB API, no /health, no place in the router. With
 * it, two regions have a majority of three (two of region A, region B and the witness), so either
 * region keeps writing while the other is cut off, and two regions cannot both write one item.
 *
 * Its versions are kept on disk (an append-only log, compacted at each start), because the
 * majority argument needs them to survive a restart: a write acknowledged by one region and the
 * witness is, after that region fails, known only to the witness.
 */

export interface WitnessOptions {
  /** The region that holds the witness (the stack's tableWitnessRegion). */
  region: string;
  tableName: string;
  /** 0 for any free port. */
  port: number;
  /** The log of versions it holds; read at start, appended to at every change. */
  versionsFile: string;
  /** Cut off (the isolate fault): it answers no call and makes none. */
  isolated?: boolean;
  leaseMs?: number;
  /** The regions' data endpoints, which it copies newer versions from after a start or a rejoin. */
  regions: Peer[];
  /** How often a witness that may have missed writes scans the regions; 1 s by default. */
  catchUpIntervalMs?: number;
}

export interface WitnessServer {
  url: string;
  port: number;
  /** How many items it holds a version of. */
  readonly items: number;
  setIsolated(isolated: boolean): void;
  close(): Promise<void>;
}

/** One line of the versions log: the item's latest version, or null once it was deleted (a rolled-back create). */
interface LogLine {
  key: string;
  itemKey: WireItem;
  item: WireItem | null;
}

/** The latest version of each item, in memory, with every change appended to a file first. */
export class WitnessVersions {
  private readonly versions = new Map<string, { itemKey: WireItem; item: WireItem }>();
  private readonly descriptor: number;

  constructor(file: string) {
    mkdirSync(path.dirname(file), { recursive: true });
    if (existsSync(file)) {
      for (const line of readFileSync(file, "utf8").split("\n")) {
        const parsed = parseLine(line);
        if (parsed === undefined) continue;
        if (parsed.item === null) this.versions.delete(parsed.key);
        else this.versions.set(parsed.key, { itemKey: parsed.itemKey, item: parsed.item });
      }
    }
    // Compacted: one line per item held, written aside and renamed, so a crash leaves one or the other.
    const compacted = [...this.versions].map(([key, { itemKey, item }]) => JSON.stringify({ key, itemKey, item }));
    writeFileSync(`${file}.tmp`, compacted.length === 0 ? "" : `${compacted.join("\n")}\n`);
    renameSync(`${file}.tmp`, file);
    this.descriptor = openSync(file, "a");
  }

  get size(): number {
    return this.versions.size;
  }

  get(key: string): WireItem | undefined {
    return this.versions.get(key)?.item;
  }

  /**
   * What a region's data endpoint does with a copy: keeps a version only if it is newer than the
   * one held (or the first), and deletes for `null`. True when the witness now holds it (or a later one).
   */
  apply(key: string, itemKey: WireItem, item: WireItem | null): boolean {
    const held = this.versions.get(key)?.item;
    if (item === null) {
      if (held === undefined) return true;
      this.record({ key, itemKey, item: null });
      this.versions.delete(key);
      return true;
    }
    if (held !== undefined && stampValue(held) >= stampValue(item)) return true;
    this.record({ key, itemKey, item });
    this.versions.set(key, { itemKey, item });
    return true;
  }

  /** A page of versions in key order, after `afterKey`; `next` names the last one when more follow. */
  page(afterKey: string | undefined, limit: number): { items: WireItem[]; next?: WireItem } {
    const keys = [...this.versions.keys()].sort().filter((key) => afterKey === undefined || key > afterKey);
    const taken = keys.slice(0, limit);
    const items = taken.map((key) => this.versions.get(key)?.item).filter((item) => item !== undefined);
    const last = taken.at(-1);
    const next = keys.length > limit && last !== undefined ? this.versions.get(last)?.itemKey : undefined;
    return next === undefined ? { items } : { items, next };
  }

  close(): void {
    closeSync(this.descriptor);
  }

  /** Written before the change is made in memory: what the witness answers for is on disk. */
  private record(line: LogLine): void {
    appendFileSync(this.descriptor, `${JSON.stringify(line)}\n`);
  }
}

function parseLine(line: string): LogLine | undefined {
  if (line.trim() === "") return undefined;
  try {
    const parsed = JSON.parse(line) as Partial<LogLine>;
    if (typeof parsed.key !== "string" || typeof parsed.itemKey !== "object" || parsed.itemKey === null)
      return undefined;
    if (parsed.item !== null && typeof parsed.item !== "object") return undefined;
    return parsed as LogLine;
  } catch {
    // A line cut short by a kill mid-append: that change was never answered for.
    return undefined;
  }
}

/**
 * Answers one call of the peer protocol as a replica would (undefined when cut off), and, like a
 * region, copies the versions it may have missed (after a start or a rejoin) from the regions.
 */
export class Witness {
  readonly leases: Leases;
  private isolated: boolean;
  private mayBeBehind = true;
  private catchingUp: Promise<void> | undefined;
  private readonly catchUpTimer: NodeJS.Timeout;

  constructor(
    private readonly options: Pick<
      WitnessOptions,
      "region" | "tableName" | "isolated" | "leaseMs" | "regions" | "catchUpIntervalMs"
    >,
    readonly versions: WitnessVersions,
  ) {
    // A restarted witness grants no lease for a whole lease period, as a restarted region does.
    this.leases = new Leases(options.leaseMs ?? DEFAULT_LEASE_MS);
    this.isolated = options.isolated === true;
    this.catchUpTimer = setInterval(() => void this.catchUpIfBehind(), options.catchUpIntervalMs ?? 1000);
    this.catchUpTimer.unref();
  }

  setIsolated(isolated: boolean): void {
    if (this.isolated && !isolated) this.mayBeBehind = true;
    this.isolated = isolated;
  }

  close(): void {
    clearInterval(this.catchUpTimer);
  }

  /**
   * Copies from each region every version newer than its own, as a region's data endpoint does
   * after a fault: the writes the two regions made while it was cut off or restarting. Applied
   * by stamp, so a copy never replaces a later version.
   */
  async catchUpIfBehind(): Promise<void> {
    if (!this.mayBeBehind || this.isolated || this.catchingUp !== undefined) return;
    this.mayBeBehind = false;
    this.catchingUp = (async () => {
      for (const region of this.options.regions) {
        let startKey: WireItem | undefined;
        do {
          const page = await this.scan(region, startKey);
          if (page === undefined) {
            this.mayBeBehind = true;
            break;
          }
          for (const item of (page.items ?? []) as WireItem[]) {
            const itemKey = MajorityReplication.itemKeyOf("PutItem", { Item: item });
            if (itemKey === undefined) continue;
            const key = itemKeyText(this.options.tableName, itemKey);
            // An item leased here is being written under this very witness's lease: that write copies it.
            if (this.leases.holders(key).length === 0) this.versions.apply(key, itemKey, item);
          }
          startKey = page.next as WireItem | undefined;
        } while (startKey !== undefined);
      }
    })().finally(() => {
      this.catchingUp = undefined;
    });
    await this.catchingUp;
  }

  private async scan(region: Peer, startKey: WireItem | undefined): Promise<Record<string, unknown> | undefined> {
    if (this.isolated) return undefined;
    return postToPeer(region, this.options.region, { op: "scan", ...(startKey !== undefined && { startKey }) });
  }

  async answerPeer(request: PeerRequest): Promise<Record<string, unknown> | undefined> {
    if (this.isolated) return undefined;
    switch (request.op) {
      case "claim":
        return this.leases.claim(request.key, request.owner, request.mode);
      case "release":
        this.leases.release(request.key, request.owner);
        return {};
      case "read": {
        const item = this.versions.get(request.key);
        return item === undefined ? {} : { item };
      }
      case "apply": {
        const outcome = await this.leases.underLease(request.key, request.owner, async () =>
          this.versions.apply(request.key, request.itemKey, request.item),
        );
        return { applied: outcome.held && outcome.value };
      }
      case "behind":
        // A region's write did not reach it (it answered too late): copy what it missed.
        this.mayBeBehind = true;
        return {};
      case "status":
        return { behind: this.mayBeBehind || this.catchingUp !== undefined };
      case "scan": {
        const after =
          request.startKey === undefined ? undefined : itemKeyText(this.options.tableName, request.startKey);
        return this.versions.page(after, SCAN_PAGE);
      }
      default: {
        // Every peer message has its answer here: a new one must not fall through to "no answer".
        const unanswered: never = request;
        return unanswered;
      }
    }
  }
}

const MAX_PEER_CALL_BYTES = 1024 * 1024;

/** The witness's HTTP server: the peer protocol under PEER_PATH, 404 for anything else. */
export async function startWitness(options: WitnessOptions): Promise<WitnessServer> {
  const versions = new WitnessVersions(options.versionsFile);
  const witness = new Witness(options, versions);

  async function handle(request: IncomingMessage, response: ServerResponse, raw: Buffer): Promise<void> {
    const url = request.url ?? "";
    const op = url.startsWith(PEER_PATH) && request.method === "POST" ? url.slice(PEER_PATH.length) : "";
    let body: unknown;
    try {
      body = JSON.parse(raw.toString("utf8"));
    } catch {
      body = undefined;
    }
    const parsed = parsePeerRequest(op, body);
    if (parsed === undefined) {
      sendPeerRefusal(
        response,
        op,
        `the ${options.region} witness answers only the peer protocol (POST ${PEER_PATH}<op>); it serves no client and has no /health`,
      );
      return;
    }
    sendPeerAnswer(response, await witness.answerPeer(parsed));
  }

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_PEER_CALL_BYTES) {
        response.writeHead(413).end();
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on("error", () => response.destroy());
    request.on("end", () => {
      handle(request, response, Buffer.concat(chunks)).catch(() => {
        // Its log could not be written: a replica that cannot store answers nothing.
        response.destroy();
      });
    });
  });
  // As the data endpoint: a request line or header Node cannot parse gets a 400, and a client
  // that never finishes its headers is cut off, instead of holding a socket.
  server.on("clientError", (_error, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    else socket.destroy();
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get items() {
      return versions.size;
    },
    setIsolated: (isolated) => witness.setIsolated(isolated),
    close: () =>
      new Promise((resolve) => {
        witness.close();
        server.closeAllConnections();
        server.close(() => {
          versions.close();
          resolve();
        });
      }),
  };
}
