import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type * as z from "zod/mini";
import { aliasOrderSchema, publishOrderSchema } from "../../shared/function-versions.js";
import { PROBLEM_TYPES } from "../../shared/problem.js";
import { createFrontDoor, problemAnswer, sendAnswer } from "../http/front-door.js";
import { FAULT_MODES, type FaultMode, type LocalCloud, VersionOrderError } from "./cloud.js";

export interface ControlServer {
  url: string;
  close(): Promise<void>;
}

/** Orders are a few bytes of JSON; a larger body is refused unread. */
const MAX_ORDER_BYTES = 64 * 1024;

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_ORDER_BYTES) throw new Error(`an order is at most ${MAX_ORDER_BYTES} bytes of JSON`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`the order is not JSON: ${(error as Error).message}`);
  }
  return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

/** Refused orders, as RFC 9457 problem+json like every other error of the project. */
const CONTROL_PROBLEMS = {
  "not-found": PROBLEM_TYPES["not-found"],
  "control-order-refused": { status: 400, title: "Order refused" },
  "control-order-failed": { status: 503, title: "The order could not be carried out" },
} as const;

function refuse(response: ServerResponse, slug: keyof typeof CONTROL_PROBLEMS, detail: string): void {
  const type = CONTROL_PROBLEMS[slug];
  sendAnswer(response, type.status, problemAnswer(slug, type, detail));
}

/** An order's body, checked against its schema; what does not match is the caller's mistake. */
function parseOrder<T>(schema: z.ZodMiniType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  throw new VersionOrderError(
    parsed.error.issues
      .map((issue) => `${issue.path.length === 0 ? "the order" : issue.path.join(".")}: ${issue.message}`)
      .join("; "),
  );
}

/** The versions and the alias (local/release/): GET /functions, POST /functions/publish, POST /functions/alias. */
async function serveFunctions(cloud: LocalCloud, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.method === "GET" && request.url === "/functions") return reply(response, 200, cloud.functionVersions());
  if (request.method !== "POST" || (request.url !== "/functions/publish" && request.url !== "/functions/alias")) {
    request.resume();
    return refuse(
      response,
      "not-found",
      "the versions are GET /functions, POST /functions/publish and POST /functions/alias",
    );
  }
  let order: Record<string, unknown>;
  try {
    order = await readJson(request);
  } catch (error) {
    request.resume();
    return refuse(response, "control-order-refused", error instanceof Error ? error.message : String(error));
  }
  try {
    if (request.url === "/functions/publish") {
      const { bundle } = parseOrder(publishOrderSchema, order);
      return reply(response, 200, { versions: await cloud.publish(bundle) });
    }
    const { region, alias } = parseOrder(aliasOrderSchema, order);
    return reply(response, 200, { region, alias: await cloud.setAlias(region, alias) });
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return refuse(
      response,
      error instanceof VersionOrderError ? "control-order-refused" : "control-order-failed",
      detail,
    );
  }
}

/**
 * The drill interface of a running local cloud, on loopback only: GET /status, GET
 * /health-checks (the router's view alone, cheap enough to poll), POST /fail
 * `{region, mode}`, POST /restore `{region}`, and the function's versions (GET /functions, POST
 * /functions/publish `{bundle}`, POST /functions/alias `{region, alias}`). `npm run local -- …`
 * and `npm run release -- --target local` are its clients.
 */
export async function startControlServer(cloud: LocalCloud): Promise<ControlServer> {
  const serve = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (request.method === "GET" && request.url === "/status") return reply(response, 200, await cloud.status());
    if (request.method === "GET" && request.url === "/health-checks") return reply(response, 200, cloud.healthChecks());
    if (request.url === "/functions" || request.url?.startsWith("/functions/")) {
      return serveFunctions(cloud, request, response);
    }
    if (request.method === "POST" && (request.url === "/fail" || request.url === "/restore")) {
      try {
        const body = await readJson(request);
        const region = typeof body.region === "string" ? body.region : "";
        if (request.url === "/restore") return reply(response, 200, { message: await cloud.restore(region) });
        const mode = body.mode as FaultMode;
        if (!FAULT_MODES.includes(mode)) {
          return refuse(response, "control-order-refused", `mode must be one of ${FAULT_MODES.join(", ")}`);
        }
        return reply(response, 200, { message: await cloud.fail(region, mode) });
      } catch (error) {
        request.resume();
        return refuse(response, "control-order-refused", error instanceof Error ? error.message : String(error));
      }
    }
    request.resume();
    refuse(
      response,
      "not-found",
      "the control endpoint serves GET /status, GET /health-checks, POST /fail, POST /restore, GET /functions, POST /functions/publish and POST /functions/alias",
    );
  };
  const server = createFrontDoor({ name: "control endpoint", style: "problem", handle: serve });
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
