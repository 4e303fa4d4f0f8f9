import {
  Agent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { REGION_HEADER } from "../../shared/api.js";
import {
  CLIENT_IDLE_SOCKET_MS,
  createFrontDoor,
  problemAnswer,
  sendAnswer,
  withoutHopByHopHeaders,
} from "../http/front-door.js";
import { gatewayError, readBody } from "../region/server.js";
import type { LatencyResolver, ResolutionSource } from "./resolver.js";

/** Which client location a request comes from; the config names a default. */
export const CLIENT_LOCATION_HEADER = "x-client-location";
/** Identifies a client's resolver for the DNS cache; the location stands in when absent. */
export const CLIENT_ID_HEADER = "x-client-id";
/** The local form of `<region>.api.<domain>`: skip latency routing and reach one region. */
export const TARGET_REGION_HEADER = "x-calcburst-target-region";

export interface RouterOptions {
  resolver: LatencyResolver;
  defaultLocation: string;
  /** The region's API URL now, or undefined while the network to it is cut. */
  regionUrl: (region: string) => string | undefined;
  regions: string[];
  host?: string;
  port?: number;
}

export interface Router {
  url: string;
  port: number;
  /** Requests proxied to each region since start. */
  routed(): Record<string, number>;
  close(): Promise<void>;
}

/** Router-made problems: local stand-ins for what DNS or the network would do on AWS. */
const ROUTER_PROBLEMS = {
  "unknown-region": { status: 400, title: "Unknown region" },
  "unknown-client-location": { status: 400, title: "Unknown client location" },
  "region-unreachable": { status: 502, title: "Region unreachable" },
} as const;

function problem(
  response: ServerResponse,
  slug: keyof typeof ROUTER_PROBLEMS,
  detail: string,
  headers: Record<string, string> = {},
): void {
  const type = ROUTER_PROBLEMS[slug];
  sendAnswer(response, type.status, problemAnswer(slug, type, detail), headers);
}

function headerValue(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

interface RegionAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Sends the request on to the region; rejects with a reason when the region cannot be reached. */
function forward(
  target: URL,
  init: { method: string; path: string; headers: IncomingHttpHeaders; body: Buffer; agent: Agent },
): Promise<RegionAnswer> {
  return new Promise((resolve, reject) => {
    const upstream = httpRequest(
      {
        hostname: target.hostname,
        port: target.port,
        method: init.method,
        path: init.path,
        headers: init.headers,
        agent: init.agent,
      },
      (answer) => {
        const body: Buffer[] = [];
        answer.on("data", (chunk: Buffer) => body.push(chunk));
        answer.on("end", () =>
          resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(body) }),
        );
        answer.on("close", () => {
          if (!answer.complete) reject(new Error("the region closed the connection before its answer was complete"));
        });
      },
    );
    // TCP_NODELAY: with Nagle's algorithm on, a Node proxy passed half the requests under load
    // (measured on the data endpoint, local/data/endpoint.ts).
    upstream.on("socket", (socket) => socket.setNoDelay(true));
    upstream.on("error", (error: NodeJS.ErrnoException) => reject(new Error(error.code ?? error.message)));
    upstream.end(init.body);
  });
}

/** What the router sends on: the client's headers without the hop-by-hop ones and its routing headers. */
function upstreamHeaders(request: IncomingMessage, body: Buffer): IncomingHttpHeaders {
  const headers = withoutHopByHopHeaders(request.headers);
  delete headers[TARGET_REGION_HEADER];
  // The router answered any `Expect: 100-continue` itself, and sends the body whole.
  delete headers.expect;
  const hadBody = request.headers["content-length"] !== undefined || request.headers["transfer-encoding"] !== undefined;
  if (hadBody || body.length > 0) headers["content-length"] = String(body.length);
  return headers;
}

/**
 * The local Route 53 plus the internet in between: one HTTP entry point that resolves each
 * request to a region (latency routing, health checks, resolver cache) and proxies it there,
 * its path and query unchanged.
 */
export async function startRouter(options: RouterOptions): Promise<Router> {
  // Each agent lets an idle socket go before the region's API would close it (local/http/front-door.ts).
  const agents = new Map(
    options.regions.map((region) => [
      region,
      new Agent({ keepAlive: true, maxSockets: 256, timeout: CLIENT_IDLE_SOCKET_MS }),
    ]),
  );
  const routed: Record<string, number> = Object.fromEntries(options.regions.map((region) => [region, 0]));

  const route = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    // The front door hands every target over in origin form, as sent: `..` stays.
    const path = request.url ?? "/";
    const location = headerValue(request, CLIENT_LOCATION_HEADER) ?? options.defaultLocation;
    const target = headerValue(request, TARGET_REGION_HEADER);
    let region: string;
    let source: ResolutionSource | "regional";
    if (target !== undefined) {
      if (!agents.has(target)) {
        request.resume();
        return problem(
          response,
          "unknown-region",
          `${TARGET_REGION_HEADER} names ${target}, which is not a region of this stack (${options.regions.join(", ")})`,
        );
      }
      region = target;
      source = "regional";
    } else {
      if (!options.resolver.hasLocation(location)) {
        request.resume();
        return problem(
          response,
          "unknown-client-location",
          `${CLIENT_LOCATION_HEADER} is ${location}; the stack's localClientLatencyMs knows ${options.resolver.locations.join(", ")}`,
        );
      }
      const clientKey = headerValue(request, CLIENT_ID_HEADER) ?? `location:${location}`;
      ({ region, source } = options.resolver.resolve(clientKey, location));
    }

    const routeHeaders = { [REGION_HEADER]: region, "x-calcburst-route": source };
    const unreachable = (why: string) => {
      request.resume();
      if (response.headersSent) return void response.destroy();
      problem(
        response,
        "region-unreachable",
        `the request resolved to ${region} (${source}), which cannot be reached: ${why}. On AWS the client sees a connection error until its resolver's answer expires.`,
        routeHeaders,
      );
    };
    const base = options.regionUrl(region);
    const agent = agents.get(region);
    if (base === undefined || agent === undefined) return unreachable("the region is isolated");

    // A client that goes away before its body is complete gets no answer.
    const body = await readBody(request).catch(() => undefined);
    if (body === undefined) return void response.destroy();
    if (body === "too-large") {
      // The region would refuse it as API Gateway does; the router need not carry 10 MB to learn that.
      return gatewayError(response, 413, "Request Entity Too Large", routeHeaders);
    }
    let answer: RegionAnswer;
    try {
      answer = await forward(new URL(base), {
        method: request.method ?? "GET",
        path,
        headers: upstreamHeaders(request, body),
        body,
        agent,
      });
    } catch (error) {
      return unreachable((error as Error).message);
    }
    routed[region] = (routed[region] ?? 0) + 1;
    response.writeHead(answer.status, { ...withoutHopByHopHeaders(answer.headers), ...routeHeaders });
    response.end(answer.body);
  };

  const server = createFrontDoor({ name: "router", style: "problem", handle: route });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 8080, options.host ?? "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? "127.0.0.1"}:${port}`,
    port,
    routed: () => ({ ...routed }),
    close: () =>
      new Promise((resolve) => {
        for (const agent of agents.values()) agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
