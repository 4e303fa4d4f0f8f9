import {
  Agent,
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
  MajorityReplication,
  type MajoritySettings,
  PEER_PATH,
  parsePeerRequest,
  sendPeerAnswer,
  sendPeerRefusal,
} from "./majority.js";
import {
  ApplyClock,
  hideStamps,
  onlyReads,
  planRead,
  planWrite,
  type Refusal,
  readNeedsPlan,
  STATEMENT_OPERATIONS,
  type StampedWrite,
  WRITE_OPERATIONS,
} from "./stamps.js";

/** DynamoDB takes at most 16 MB in one request (BatchWriteItem); anything larger is refused here. */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024 + 64 * 1024;
/** Longer than any client's idle keep-alive, so the server never closes a socket a client is about to reuse. */
const KEEP_ALIVE_MS = 65_000;
const STAMP_MARKER = "aws:rep:";
/** A guarded write that keeps finding a later write of its item ahead of it gives up after this many stamps. */
const MAX_STAMPS = 8;
/** Hop-by-hop headers (RFC 9110 §7.6.1): they describe one connection and are never passed on. */
const HOP_BY_HOP = ["connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"];

export interface DataEndpointOptions {
  region: string;
  /** The region's DynamoDB Local. */
  upstream: string;
  /** 0 for any free port. */
  port: number;
  clock?: ApplyClock;
  /** MRSC: writes and strongly consistent reads need a majority of the regions (local/data/majority.ts). */
  majority?: MajoritySettings;
}

/** What an MRSC table's local endpoint refuses: what it cannot coordinate item by item. */
const MRSC_REFUSED = new Set([
  "DeleteItem",
  "BatchWriteItem",
  "TransactWriteItems",
  "TransactGetItems",
  "ExecuteTransaction",
]);

/** DynamoDB Local's answer, whole. */
interface Upstream {
  status: number;
  headers: IncomingHttpHeaders;
  payload: Buffer;
}

export interface DataEndpoint {
  url: string;
  port: number;
  /** MRSC only: cut this region off from the others, or rejoin them. */
  setIsolated(isolated: boolean): void;
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
 * A region's DynamoDB endpoint in the local cloud: a thin HTTP layer in front of its DynamoDB
 * Local that stamps every write with when and where it was applied (REPLICATION_STAMP) and hides
 * the stamps and the replicator's tombstones from every answer, the way a global table keeps its
 * replication metadata out of sight. Each stamped write carries a guard (the item's stamp must be
 * earlier), so it lands only after every write of the item already applied, replicated ones
 * included; when the guard alone fails it is stamped again and resent. A Scan, a Query or a read
 * that names its attributes gets what keeps tombstones out of its answer (planRead); other reads
 * and everything else pass through untouched; a write it cannot stamp is refused with the error
 * DynamoDB's client expects, never passed on unstamped.
 * No request can stop it: what it cannot handle is answered, not thrown.
 */
export async function startDataEndpoint(options: DataEndpointOptions): Promise<DataEndpoint> {
  const upstream = new URL(options.upstream);
  const clock = options.clock ?? new ApplyClock(options.region);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const utf8 = new TextDecoder("utf-8", { fatal: true });

  /** One call to DynamoDB Local with this body; resolves with its status, headers and whole body. */
  function forward(request: IncomingMessage, body: Buffer, signal: AbortSignal | undefined) {
    return new Promise<Upstream>((resolve, reject) => {
      const headers: IncomingHttpHeaders = {
        ...endToEnd(request.headers),
        host: upstream.host,
        "content-length": String(body.length),
      };
      const call = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: "POST",
          path: request.url,
          headers,
          agent,
          ...(signal !== undefined && { signal }),
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
      // TCP_NODELAY on every socket the call gets: with Nagle's algorithm on, a proxy in front of
      // DynamoDB Local halved the writes it passed (176 against 459 PutItems/s at 16 concurrent).
      call.on("socket", (socket) => socket.setNoDelay(true));
      call.on("error", reject);
      call.end(body);
    });
  }

  /** One call of this endpoint's own to DynamoDB Local (the MRSC protocol's reads and copies). */
  function callUpstream(operation: string, body: Record<string, unknown>) {
    return new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
      const payload = Buffer.from(JSON.stringify(body));
      const call = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: "POST",
          path: "/",
          agent,
          headers: {
            "content-type": "application/x-amz-json-1.0",
            "x-amz-target": `DynamoDB_20120810.${operation}`,
            // DynamoDB Local runs with -sharedDb: any credentials reach the same tables.
            authorization: `AWS4-HMAC-SHA256 Credential=local/20250101/${options.region}/dynamodb/aws4_request, SignedHeaders=host, Signature=0`,
            "content-length": String(payload.length),
          },
          timeout: 5000,
        },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on("data", (chunk: Buffer) => parts.push(chunk));
          answer.on("error", reject);
          answer.on("end", () =>
            resolve({ status: answer.statusCode ?? 502, body: objectOf(Buffer.concat(parts)) ?? {} }),
          );
        },
      );
      call.on("timeout", () => call.destroy(new Error("DynamoDB Local did not answer in time")));
      call.on("error", reject);
      call.end(payload);
    });
  }

  const majority =
    options.majority === undefined
      ? undefined
      : new MajorityReplication(options.region, options.majority, callUpstream, clock);

  /** Another region's MRSC call: answered, or refused while this region is cut off. */
  async function handlePeer(request: IncomingMessage, response: ServerResponse, raw: Buffer): Promise<void> {
    const op = (request.url ?? "").slice(PEER_PATH.length);
    const parsed = majority === undefined ? undefined : parsePeerRequest(op, objectOf(raw));
    if (majority === undefined || parsed === undefined) {
      // A region of an MREC table has no peers: no message is served there.
      sendPeerRefusal(
        response,
        majority === undefined ? undefined : op,
        `${options.region}'s data endpoint answers no such peer message`,
      );
      return;
    }
    sendPeerAnswer(response, await majority.answerPeer(parsed));
  }

  /**
   * What to do with a request: pass it on as it came, refuse it, pass on a read rewritten so that
   * its answer leaves tombstones out, or stamp and order its writes.
   */
  type Plan =
    | { kind: "pass" }
    | { kind: "refuse"; refusal: Refusal }
    | { kind: "read"; body: Buffer }
    | { kind: "write"; write: StampedWrite };

  function plan(operation: string, raw: Buffer): Plan {
    const isWrite = WRITE_OPERATIONS.has(operation);
    const isPlannedRead = readNeedsPlan(operation, raw);
    if (!isWrite && !isPlannedRead && !STATEMENT_OPERATIONS.has(operation)) return { kind: "pass" };
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
    if (isPlannedRead) {
      const read = planRead(operation, parsed);
      return "request" in read
        ? { kind: "read", body: Buffer.from(JSON.stringify(read.request)) }
        : { kind: "refuse", refusal: read };
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
    const planned = planWrite(operation, parsed);
    if (planned === "pass") return { kind: "pass" };
    return "type" in planned ? { kind: "refuse", refusal: planned } : { kind: "write", write: planned };
  }

  /** A JSON body as an object, when it is one. */
  function objectOf(payload: Buffer): Record<string, unknown> | undefined {
    try {
      const parsed: unknown = JSON.parse(payload.toString("utf8"));
      return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }

  async function handle(request: IncomingMessage, response: ServerResponse, raw: Buffer): Promise<void> {
    // A client that gives up (its own timeout) takes its upstream call with it.
    const abandoned = new AbortController();
    response.once("close", () => {
      if (!response.writableFinished) abandoned.abort();
    });
    if ((request.url ?? "").startsWith(PEER_PATH)) return handlePeer(request, response, raw);
    const operation = String(request.headers["x-amz-target"] ?? "").split(".")[1] ?? "";
    if (majority !== undefined && MRSC_REFUSED.has(operation)) {
      return replyError(
        response,
        400,
        "ValidationException",
        `${operation} is not supported on the local cloud's MRSC table: it coordinates PutItem, UpdateItem and GetItem item by item`,
      );
    }
    const planned = plan(operation, raw);
    if (planned.kind === "refuse") return replyError(response, 400, planned.refusal.type, planned.refusal.message);
    let answer: Upstream;
    let payload: Buffer;
    if (planned.kind === "write") {
      const write = planned.write;
      // Under MRSC a write runs to its end (a majority, or rolled back) even if its client gives up:
      // cut short after it landed here, it would stay in this replica alone, never acknowledged.
      const signal = majority === undefined ? abandoned.signal : undefined;
      const applyHere = async () => {
        const outcome = await sendStamped(request, write, signal);
        return outcome === "gave up" ? { status: 500, outcome } : { status: outcome.answer.status, outcome };
      };
      const itemKey = majority === undefined ? undefined : MajorityReplication.itemKeyOf(operation, write.request);
      if (majority !== undefined && itemKey === undefined) {
        return replyError(response, 400, "ValidationException", "the local MRSC table needs the item's key");
      }
      const result =
        majority === undefined || itemKey === undefined ? await applyHere() : await majority.write(itemKey, applyHere);
      if ("type" in result) return replyError(response, result.status, result.type, result.message);
      if (result.outcome === "gave up") {
        return replyError(response, 500, "InternalServerError", "later writes of the item kept landing first; retry");
      }
      ({ answer, payload } = result.outcome);
    } else {
      const body = majority !== undefined && operation === "GetItem" ? objectOf(raw) : undefined;
      const itemKey = body?.ConsistentRead === true ? MajorityReplication.itemKeyOf(operation, body) : undefined;
      const sent = planned.kind === "read" ? planned.body : raw;
      const read =
        majority === undefined || itemKey === undefined
          ? await forward(request, sent, abandoned.signal)
          : await majority.read(itemKey, () => forward(request, sent, abandoned.signal));
      if ("type" in read) return replyError(response, read.status, read.type, read.message);
      answer = read;
      payload = answer.payload;
    }
    if (payload.includes(STAMP_MARKER)) {
      const parsed = objectOf(payload);
      if (parsed !== undefined) {
        hideStamps(parsed);
        payload = Buffer.from(JSON.stringify(parsed));
      }
    }
    const headers = endToEnd(answer.headers);
    // The SDK checks DynamoDB's checksum of the body it receives.
    if (headers["x-amz-crc32"] !== undefined && payload !== answer.payload)
      headers["x-amz-crc32"] = String(crc32(payload));
    headers["content-length"] = String(payload.length);
    if (!response.destroyed) {
      response.writeHead(answer.status, headers);
      response.end(payload);
    }
  }

  /**
   * Sends a write stamped, and again stamped later while only its guard fails (a later write of
   * the item landed first). Answers with DynamoDB's last answer and the body for the client.
   */
  async function sendStamped(request: IncomingMessage, write: StampedWrite, signal: AbortSignal | undefined) {
    for (let attempt = 1; attempt <= MAX_STAMPS; attempt++) {
      const stamp = clock.next();
      write.stamp(stamp);
      const answer = await forward(request, Buffer.from(JSON.stringify(write.request)), signal);
      const error = answer.status >= 400 ? objectOf(answer.payload) : undefined;
      if (error === undefined) return { answer, payload: answer.payload };
      const verdict = write.verdict(error, stamp);
      if (verdict.kind === "final") {
        write.hideUnaskedItems(error);
        return { answer, payload: Buffer.from(JSON.stringify(error)) };
      }
      clock.observe(verdict.after);
    }
    return "gave up" as const;
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
    setIsolated: (isolated) => majority?.setIsolated(isolated),
    close: () =>
      new Promise((resolve) => {
        majority?.close();
        server.closeAllConnections();
        server.close(() => resolve());
        agent.destroy();
      }),
  };
}
