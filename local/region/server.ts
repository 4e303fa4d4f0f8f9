import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { VERSION_HEADER } from "../../shared/function-versions.js";
import { buildHttpApiEvent } from "../../shared/payload-v2.js";
import { HEALTH_ROUTE } from "../../shared/stack-config.js";
import { createFrontDoor, type FrontDoorProblem, refuse } from "../http/front-door.js";
import type { InvocationOutcome, TokenBucket } from "./lambda.js";

/** API Gateway HTTP APIs refuse bodies over 10 MB before Lambda sees them. */
export const API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;
/** HTTP API quota: "total combined size of request line and header values", not adjustable. */
export const API_GATEWAY_MAX_REQUEST_LINE_AND_HEADER_VALUES_BYTES = 10_240;

/**
 * Something that runs the function for an event: the region's alias (which says the version it
 * picked), a LambdaEmulator, or a plain handler.
 */
export interface Invoker {
  invoke(event: APIGatewayProxyEventV2): Promise<InvocationOutcome & { version?: string }>;
}

export interface RegionServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface RegionServerOptions {
  region: string;
  function: Invoker;
  /** Stage throttling (the default route settings); none when absent. */
  throttle?: TokenBucket;
  /** `GET /health`'s own route throttling, as the stage's route settings give it on AWS; none when absent. */
  healthThrottle?: TokenBucket;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Told of every 429 the gateway answers itself, for the platform metrics. */
  onThrottle?: (reason: "stage" | "concurrency") => void;
}

/** The raw body as API Gateway takes it: "too-large" past its limit (read to the end, not kept). */
export function readBody(request: IncomingMessage): Promise<Buffer | "too-large"> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= API_GATEWAY_MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on("end", () => resolve(size > API_GATEWAY_MAX_BODY_BYTES ? "too-large" : Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

/** An answer API Gateway makes itself, in its own format. */
export function gatewayError(
  response: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { ...headers, "content-type": "application/json" });
  response.end(JSON.stringify({ message }));
}

/**
 * Which quota the request line and headers break, if any. Node hands both over decoded as
 * latin1, one character per byte, so lengths are bytes.
 */
function headQuotaBroken(request: IncomingMessage): FrontDoorProblem | undefined {
  const requestLine = `${request.method} ${request.url} HTTP/${request.httpVersion}`.length;
  if (requestLine > API_GATEWAY_MAX_REQUEST_LINE_AND_HEADER_VALUES_BYTES) return "uri-too-long";
  let size = requestLine;
  for (let index = 1; index < request.rawHeaders.length; index += 2) size += request.rawHeaders[index]?.length ?? 0;
  return size > API_GATEWAY_MAX_REQUEST_LINE_AND_HEADER_VALUES_BYTES ? "request-header-fields-too-large" : undefined;
}

/**
 * One region's API Gateway HTTP API: turns each HTTP request into the payload-2.0 event API
 * Gateway would send, invokes the function, and writes its structured response back. Where
 * the function cannot answer, it answers as API Gateway does: 429 when the stage throttles or
 * Lambda has no concurrency left, 503 when the integration times out, 500 when it fails.
 */
export async function startRegionServer(options: RegionServerOptions): Promise<RegionServer> {
  const host = options.host ?? "127.0.0.1";
  const serve = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = request.url ?? "/";
    const broken = headQuotaBroken(request);
    if (broken !== undefined) {
      request.resume();
      return refuse(response, "gateway", broken, "");
    }
    try {
      const body = await readBody(request);
      if (body === "too-large") return gatewayError(response, 413, "Request Entity Too Large");
      const isHealth = request.method === HEALTH_ROUTE.method && path.split("?")[0] === HEALTH_ROUTE.path;
      // API Gateway throttles a route with its own settings when it has them, else with the stage's.
      const throttle = isHealth ? options.healthThrottle : options.throttle;
      if (throttle !== undefined && !throttle.take()) {
        options.onThrottle?.("stage");
        return gatewayError(response, 429, "Too Many Requests");
      }
      const event = buildHttpApiEvent({
        method: request.method ?? "GET",
        path,
        headers: request.headers,
        body,
        sourceIp: request.socket.remoteAddress ?? "127.0.0.1",
      });
      const outcome = await options.function.invoke(event);
      // Once the alias has picked a version, every answer names it, the gateway's own included.
      const picked = outcome.version === undefined ? {} : { [VERSION_HEADER]: outcome.version };
      if (outcome.kind === "throttled") {
        options.onThrottle?.("concurrency");
        return gatewayError(response, 429, "Too Many Requests", picked);
      }
      if (outcome.kind === "timeout") return gatewayError(response, 503, "Service Unavailable", picked);
      if (outcome.kind === "error") return gatewayError(response, 500, "Internal Server Error", picked);
      const { result } = outcome;
      const headers: Record<string, string | string[]> = { ...picked };
      for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
      if (result.cookies !== undefined) headers["set-cookie"] = result.cookies;
      if (outcome.version !== undefined) headers[VERSION_HEADER] = outcome.version;
      headers["apigw-requestid"] = event.requestContext.requestId;
      response.writeHead(result.statusCode ?? 200, headers);
      response.end(result.isBase64Encoded ? Buffer.from(result.body ?? "", "base64") : (result.body ?? ""));
    } catch {
      // What API Gateway answers when the integration fails.
      if (!response.headersSent) gatewayError(response, 500, "Internal Server Error");
      else response.destroy();
    }
  };
  const server = createFrontDoor({ name: `${options.region} API`, style: "gateway", handle: serve });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
