import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { REGION_HEADER } from "../../shared/api.js";
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_PREFIX } from "../../shared/problem.js";
import { API_GATEWAY_MAX_BODY_BYTES } from "../region/server.js";
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
function problem(
  response: ServerResponse,
  status: number,
  slug: string,
  title: string,
  detail: string,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { ...headers, "content-type": PROBLEM_CONTENT_TYPE });
  response.end(JSON.stringify({ type: `${PROBLEM_TYPE_PREFIX}${slug}`, title, status, detail }));
}

function headerValue(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The local Route 53 plus the internet in between: one HTTP entry point that resolves each
 * request to a region (latency routing, health checks, resolver cache) and proxies it there.
 */
export async function startRouter(options: RouterOptions): Promise<Router> {
  const agents = new Map(options.regions.map((region) => [region, new Agent({ keepAlive: true, maxSockets: 256 })]));
  const routed: Record<string, number> = Object.fromEntries(options.regions.map((region) => [region, 0]));

  const server = createServer((request, response) => {
    const location = headerValue(request, CLIENT_LOCATION_HEADER) ?? options.defaultLocation;
    const target = headerValue(request, TARGET_REGION_HEADER);
    let region: string;
    let source: ResolutionSource | "regional";
    if (target !== undefined) {
      if (!agents.has(target)) {
        return problem(
          response,
          400,
          "unknown-region",
          "Unknown region",
          `${TARGET_REGION_HEADER} names ${target}, which is not a region of this stack (${options.regions.join(", ")})`,
        );
      }
      region = target;
      source = "regional";
    } else {
      if (!options.resolver.hasLocation(location)) {
        return problem(
          response,
          400,
          "unknown-client-location",
          "Unknown client location",
          `${CLIENT_LOCATION_HEADER} is ${location}; the stack's localClientLatencyMs knows ${options.resolver.locations.join(", ")}`,
        );
      }
      const clientKey = headerValue(request, CLIENT_ID_HEADER) ?? `location:${location}`;
      ({ region, source } = options.resolver.resolve(clientKey, location));
    }

    const base = options.regionUrl(region);
    const unreachable = (why: string) => {
      request.resume();
      if (response.headersSent) return void response.destroy();
      problem(
        response,
        502,
        "region-unreachable",
        "Region unreachable",
        `the request resolved to ${region} (${source}), which cannot be reached: ${why}. On AWS the client sees a connection error until its resolver's answer expires.`,
        { [REGION_HEADER]: region, "x-calcburst-route": source },
      );
    };
    if (base === undefined) return unreachable("the region is isolated");

    const headers = { ...request.headers };
    delete headers[TARGET_REGION_HEADER];
    // Bodies are small (API Gateway caps them); buffering both ways costs less CPU than streams.
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      // Past API Gateway's limit the region would refuse it anyway; do not hold it in memory.
      if (size <= API_GATEWAY_MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on("end", () => {
      if (size > API_GATEWAY_MAX_BODY_BYTES) {
        response.writeHead(413, { "content-type": "application/json", [REGION_HEADER]: region });
        return void response.end(JSON.stringify({ message: "Request Entity Too Large" }));
      }
      const upstream = httpRequest(
        `${base}${request.url ?? "/"}`,
        { method: request.method, headers, agent: agents.get(region) },
        (answer) => {
          const body: Buffer[] = [];
          answer.on("data", (chunk: Buffer) => body.push(chunk));
          answer.on("end", () => {
            routed[region] = (routed[region] ?? 0) + 1;
            answer.headers[REGION_HEADER] = region;
            answer.headers["x-calcburst-route"] = source;
            delete answer.headers["transfer-encoding"];
            response.writeHead(answer.statusCode ?? 502, answer.headers);
            response.end(Buffer.concat(body));
          });
        },
      );
      // TCP_NODELAY: with Nagle's algorithm on, a Node proxy passed half the requests under load
      // (measured on the data endpoint, local/data/endpoint.ts).
      upstream.on("socket", (socket) => socket.setNoDelay(true));
      upstream.on("error", (error: NodeJS.ErrnoException) => unreachable(error.code ?? error.message));
      upstream.end(Buffer.concat(chunks));
    });
  });
  server.keepAliveTimeout = 30_000;

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
