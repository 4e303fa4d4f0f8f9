import {
  Agent,
  type AgentOptions,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { TextDecoder } from "node:util";
import { crc32 } from "node:zlib";
import {
  ApplyClock,
  hideStamps,
  lockName,
  onlyReads,
  type Refusal,
  STATEMENT_OPERATIONS,
  stampOf,
  stampTouched,
  type TouchedItem,
  touchedItems,
  WRITE_OPERATIONS,
} from "./stamps.js";

/** DynamoDB takes at most 16 MB in one request (BatchWriteItem); anything larger is refused here. */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024 + 64 * 1024;
/** Longer than any client's idle keep-alive, so the server never closes a socket a client is about to reuse. */
const KEEP_ALIVE_MS = 65_000;
const STAMP_MARKER = "aws:rep:";
/**
 * Set by the replicator on the writes it applies: they carry the stamps of the region they came
 * from, which the endpoint keeps (and lets its clock catch up with) instead of stamping anew.
 */
export const REPLICATED_WRITE_HEADER = "x-calcburst-replicated-write";
/** Hop-by-hop headers (RFC 9110 §7.6.1): they describe one connection and are never passed on. */
const HOP_BY_HOP = ["connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"];

export interface DataEndpointOptions {
  region: string;
  /** The region's DynamoDB Local. */
  upstream: string;
  /** 0 for any free port. */
  port: number;
  clock?: ApplyClock;
}

export interface DataEndpoint {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** An error as DynamoDB's JSON protocol carries it, so the SDK raises it by name. */
function replyError(response: ServerResponse, status: number, type: string, message: string): void {
  if (response.headersSent || response.destroyed) return void response.destroy();
  const body = JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message });
  response.writeHead(status, {
    "content-type": "application/x-amz-json-1.0",
    "content-length": Buffer.byteLength(body),
  });
  response.end(body);
}

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const kept = { ...headers };
  for (const name of HOP_BY_HOP) delete kept[name];
  return kept;
}

/**
 * Writes of one item, one at a time: a write takes the locks of every item it touches (in name
 * order, so two writes never wait on each other) before it is stamped, and gives them back once
 * DynamoDB has answered. So a region's writes of one item are stamped in the order DynamoDB
 * applies them, conditional or not, the replicator's included.
 */
class ItemLocks {
  private readonly tails = new Map<string, Promise<void>>();

  async acquire(names: readonly string[]): Promise<() => void> {
    const releases: (() => void)[] = [];
    for (const name of [...new Set(names)].sort()) {
      const previous = this.tails.get(name) ?? Promise.resolve();
      let release: () => void = () => undefined;
      const mine = new Promise<void>((resolve) => {
        release = resolve;
      });
      const tail = previous.then(() => mine);
      this.tails.set(name, tail);
      await previous;
      releases.push(() => {
        release();
        if (this.tails.get(name) === tail) this.tails.delete(name);
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const one of releases) one();
    };
  }
}

/**
 * A region's DynamoDB endpoint in the local cloud: a thin HTTP layer in front of its DynamoDB
 * Local that stamps every write with when and where it was applied (REPLICATION_STAMP) and hides
 * the stamps from every answer, the way a global table keeps its replication metadata out of
 * sight. Writes of one item pass one at a time. Reads and everything else pass through
 * untouched; a write it cannot stamp is refused with the error DynamoDB's client expects, never
 * passed on unstamped. No request can stop it: what it cannot handle is answered, not thrown.
 */
export async function startDataEndpoint(options: DataEndpointOptions): Promise<DataEndpoint> {
  const upstream = new URL(options.upstream);
  const clock = options.clock ?? new ApplyClock(options.region);
  // noDelay: without it Nagle's algorithm held the request's last segment for the previous one's
  // acknowledgement, and the endpoint added tens of ms per write under load (p95 209 vs 29 ms at 200/s).
  const agent = new Agent({ keepAlive: true, maxSockets: 256, noDelay: true } as AgentOptions);
  const locks = new ItemLocks();
  const keySchemas = new Map<string, Promise<string[]>>();
  const utf8 = new TextDecoder("utf-8", { fatal: true });

  /** One call to DynamoDB Local with this body; resolves with its status, headers and whole body. */
  function forward(request: IncomingMessage, body: Buffer, options: { target?: string; signal?: AbortSignal } = {}) {
    return new Promise<{ status: number; headers: IncomingHttpHeaders; payload: Buffer }>((resolve, reject) => {
      const headers: IncomingHttpHeaders = {
        ...endToEnd(request.headers),
        host: upstream.host,
        "content-length": String(body.length),
        ...(options.target !== undefined && { "x-amz-target": options.target }),
      };
      const call = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: "POST",
          path: request.url,
          headers,
          agent,
          ...(options.signal !== undefined && { signal: options.signal }),
        },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on("data", (chunk: Buffer) => parts.push(chunk));
          answer.on("error", reject);
          answer.on("end", () =>
            resolve({ status: answer.statusCode ?? 502, headers: answer.headers, payload: Buffer.concat(parts) }),
          );
        },
      );
      call.on("error", reject);
      call.end(body);
    });
  }

  /** The key attribute names of a table, asked of DynamoDB Local once. */
  function keyAttributes(request: IncomingMessage, tableName: string): Promise<string[]> {
    let known = keySchemas.get(tableName);
    if (known === undefined) {
      const describe = Buffer.from(JSON.stringify({ TableName: tableName }));
      known = forward(request, describe, { target: "DynamoDB_20120810.DescribeTable" }).then(({ status, payload }) => {
        const table = (JSON.parse(payload.toString("utf8")) as { Table?: { KeySchema?: { AttributeName: string }[] } })
          .Table;
        if (status !== 200 || table?.KeySchema === undefined) throw new Error(`no table ${tableName}`);
        return table.KeySchema.map((entry) => entry.AttributeName);
      });
      // A table that does not exist yet may later: only a schema read is kept.
      known.catch(() => keySchemas.delete(tableName));
      keySchemas.set(tableName, known);
    }
    return known;
  }

  /** What to do with a request: pass it on as it came, refuse it, or stamp and order its writes. */
  type Plan =
    | { kind: "pass" }
    | { kind: "refuse"; refusal: Refusal }
    | { kind: "write"; parsed: unknown; touched: TouchedItem[] };

  function plan(operation: string, raw: Buffer): Plan {
    const isWrite = WRITE_OPERATIONS.has(operation);
    if (!isWrite && !STATEMENT_OPERATIONS.has(operation)) return { kind: "pass" };
    let parsed: unknown;
    try {
      // Strict: DynamoDB Local's lenient parser would take a byte-order mark or trailing text,
      // and the write would go through unstamped.
      parsed = JSON.parse(utf8.decode(raw));
    } catch {
      return {
        kind: "refuse",
        refusal: { type: "SerializationException", message: "the request body is not valid JSON in UTF-8" },
      };
    }
    if (!isWrite) {
      return onlyReads(operation, parsed)
        ? { kind: "pass" }
        : {
            kind: "refuse",
            refusal: {
              type: "ValidationException",
              message: "PartiQL writes cannot be stamped by the local data endpoint; use the item API",
            },
          };
    }
    const touched = touchedItems(operation, parsed);
    return Array.isArray(touched) ? { kind: "write", parsed, touched } : { kind: "refuse", refusal: touched };
  }

  async function handle(request: IncomingMessage, response: ServerResponse, raw: Buffer): Promise<void> {
    // A client that gives up (its own timeout) takes its upstream call with it.
    const abandoned = new AbortController();
    response.once("close", () => {
      if (!response.writableFinished) abandoned.abort();
    });
    const operation = String(request.headers["x-amz-target"] ?? "").split(".")[1] ?? "";
    const planned = plan(operation, raw);
    if (planned.kind === "refuse") return replyError(response, 400, planned.refusal.type, planned.refusal.message);
    let body = raw;
    let release: () => void = () => undefined;
    if (planned.kind === "write") {
      const names = await Promise.all(
        planned.touched.map(async (entry) =>
          lockName(entry, await keyAttributes(request, entry.table).catch(() => [])),
        ),
      );
      release = await locks.acquire(names);
    }
    try {
      // Gone while it waited for the item: nothing reached DynamoDB, as if the request never had.
      if (abandoned.signal.aborted) return;
      if (planned.kind === "write") {
        if (request.headers[REPLICATED_WRITE_HEADER] === undefined) {
          stampTouched(planned.touched, clock.next());
        } else {
          for (const entry of planned.touched) {
            const stamp = entry.kind === "put" ? stampOf(entry.item) : undefined;
            if (stamp !== undefined) clock.observe(stamp.time);
          }
        }
        body = Buffer.from(JSON.stringify(planned.parsed));
      }
      const answer = await forward(request, body, { signal: abandoned.signal });
      const headers = endToEnd(answer.headers);
      let payload = answer.payload;
      if (payload.includes(STAMP_MARKER)) {
        try {
          const parsed = JSON.parse(payload.toString("utf8")) as Record<string, unknown>;
          hideStamps(parsed);
          payload = Buffer.from(JSON.stringify(parsed));
          // The SDK checks DynamoDB's checksum of the body it receives.
          if (headers["x-amz-crc32"] !== undefined) headers["x-amz-crc32"] = String(crc32(payload));
        } catch {
          // Not JSON: passed on as it came.
        }
      }
      headers["content-length"] = String(payload.length);
      if (!response.destroyed) {
        response.writeHead(answer.status, headers);
        response.end(payload);
      }
    } finally {
      release();
    }
  }

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) {
        replyError(response, 413, "ValidationException", "the request is larger than DynamoDB accepts");
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on("error", () => response.destroy());
    request.on("end", () => {
      handle(request, response, Buffer.concat(chunks)).catch((error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        // Upstream unreachable or gone: a server fault the SDK retries. Anything else: this endpoint's fault.
        if (error instanceof RangeError)
          replyError(response, 400, "SerializationException", `the request cannot be read: ${reason}`);
        else replyError(response, 503, "ServiceUnavailableException", `${options.region}'s DynamoDB: ${reason}`);
      });
    });
  });
  server.on("clientError", (_error, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    else socket.destroy();
  });
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.headersTimeout = KEEP_ALIVE_MS + 1000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        agent.destroy();
      }),
  };
}
