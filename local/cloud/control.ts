import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_PREFIX } from "../../shared/problem.js";
import { FAULT_MODES, type FaultMode, type LocalCloud } from "./cloud.js";

export interface ControlServer {
  url: string;
  close(): Promise<void>;
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if (text === "") return {};
  const parsed: unknown = JSON.parse(text);
  return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

/** A refused order, as RFC 9457 problem+json like every other error of the project. */
function refuse(response: ServerResponse, status: number, detail: string): void {
  response.writeHead(status, { "content-type": PROBLEM_CONTENT_TYPE });
  response.end(
    JSON.stringify({
      type: `${PROBLEM_TYPE_PREFIX}${status === 404 ? "not-found" : "control-order-refused"}`,
      title: status === 404 ? "Not found" : "Order refused",
      status,
      detail,
    }),
  );
}

/**
 * The drill interface of a running local cloud, on loopback only: GET /status, GET
 * /health-checks (the router's view alone, cheap enough to poll), POST /fail
 * `{region, mode}`, POST /restore `{region}`. `npm run local -- …` is its client.
 */
export async function startControlServer(cloud: LocalCloud): Promise<ControlServer> {
  const server = createServer((request, response) => {
    void (async () => {
      try {
        if (request.method === "GET" && request.url === "/status") return reply(response, 200, await cloud.status());
        if (request.method === "GET" && request.url === "/health-checks")
          return reply(response, 200, cloud.healthChecks());
        if (request.method === "POST" && (request.url === "/fail" || request.url === "/restore")) {
          const body = await readJson(request);
          const region = typeof body.region === "string" ? body.region : "";
          if (request.url === "/restore") return reply(response, 200, { message: await cloud.restore(region) });
          const mode = body.mode as FaultMode;
          if (!FAULT_MODES.includes(mode)) {
            return refuse(response, 400, `mode must be one of ${FAULT_MODES.join(", ")}`);
          }
          return reply(response, 200, { message: await cloud.fail(region, mode) });
        }
        refuse(
          response,
          404,
          "the control endpoint serves GET /status, GET /health-checks, POST /fail and POST /restore",
        );
      } catch (error) {
        refuse(response, 400, error instanceof Error ? error.message : String(error));
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
