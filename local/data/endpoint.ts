import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { crc32 } from "node:zlib";
import { ApplyClock, hideStamps, INSPECTED_OPERATIONS, stampRequest } from "./stamps.js";

/** DynamoDB takes at most 16 MB in one request (BatchWriteItem); anything larger is refused here. */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024 + 64 * 1024;
/** Longer than any client's idle keep-alive, so the server never closes a socket a client is about to reuse. */
const KEEP_ALIVE_MS = 65_000;
const STAMP_MARKER = "aws:rep:";

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
  if (response.headersSent) return void response.destroy();
  const body = JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message });
  response.writeHead(status, {
    "content-type": "application/x-amz-json-1.0",
    "content-length": Buffer.byteLength(body),
  });
  response.end(body);
}

function forwardedHeaders(headers: IncomingHttpHeaders, upstream: URL, length: number): IncomingHttpHeaders {
  return { ...headers, host: upstream.host, "content-length": String(length) };
}

/**
 * A region's DynamoDB endpoint in the local cloud: a thin HTTP layer in front of its DynamoDB
 * Local that stamps every write with when and where it was applied (REPLICATION_STAMP) and
 * hides the stamps from every answer, the way a global table keeps its replication metadata
 * out of sight. The replicator reads and writes DynamoDB Local itself, where the stamps show.
 * Everything else passes through untouched; a request it cannot parse goes on as it came, so
 * DynamoDB Local answers it with its own error.
 */
export async function startDataEndpoint(options: DataEndpointOptions): Promise<DataEndpoint> {
  const upstream = new URL(options.upstream);
  const clock = options.clock ?? new ApplyClock(options.region);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });

  const server = createServer((request, response) => {
    const operation = String(request.headers["x-amz-target"] ?? "").split(".")[1] ?? "";
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
      let body = Buffer.concat(chunks);
      if (INSPECTED_OPERATIONS.has(operation)) {
        let parsed: Record<string, unknown> | undefined;
        try {
          parsed = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
        } catch {
          // Not JSON: DynamoDB Local's own answer says so.
        }
        if (parsed !== undefined) {
          const refusal = stampRequest(operation, parsed, clock.next());
          if (refusal !== undefined) return replyError(response, 400, "ValidationException", refusal);
          body = Buffer.from(JSON.stringify(parsed));
        }
      }
      const forwarded = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: request.method,
          path: request.url,
          headers: forwardedHeaders(request.headers, upstream, body.length),
          agent,
        },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on("data", (chunk: Buffer) => parts.push(chunk));
          answer.on("error", () => response.destroy());
          answer.on("end", () => {
            let payload = Buffer.concat(parts);
            const headers = { ...answer.headers };
            if (payload.includes(STAMP_MARKER)) {
              try {
                const parsed = JSON.parse(payload.toString("utf8")) as Record<string, unknown>;
                hideStamps(parsed);
                payload = Buffer.from(JSON.stringify(parsed));
                headers["content-length"] = String(payload.length);
                // The SDK checks DynamoDB's checksum of the body it receives.
                if (headers["x-amz-crc32"] !== undefined) headers["x-amz-crc32"] = String(crc32(payload));
              } catch {
                // Not JSON: passed on as it came.
              }
            }
            response.writeHead(answer.statusCode ?? 502, headers);
            response.end(payload);
          });
        },
      );
      forwarded.on("error", (error) =>
        replyError(response, 503, "ServiceUnavailableException", `${options.region}'s DynamoDB: ${error.message}`),
      );
      // A client that gave up (its own timeout) takes its upstream call with it.
      response.on("close", () => {
        if (!response.writableFinished) forwarded.destroy();
      });
      forwarded.end(body);
    });
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
