/**
 * The HTTP servers of the local cloud that face clients (router, regional APIs, control endpoint,
 * replicator status, Alertmanager webhook) are built here, so each gets the same guarantees: no
 * request, however malformed, takes its process down; every request line gets an HTTP answer or a
 * clean close; and no client finds its idle keep-alive socket closed under it.
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from "node:http";
import type { Duplex } from "node:stream";
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_PREFIX, PROBLEM_TYPES } from "../../shared/problem.js";

/**
 * What a front door answers by itself, before or instead of its handler. The router and the
 * control endpoint word them as RFC 9457 problems; a regional API as API Gateway does.
 */
export const FRONT_DOOR_PROBLEMS = {
  "malformed-request": { status: 400, title: "The request is not valid HTTP/1.1" },
  "invalid-request-target": { status: 400, title: "The request target is not a path" },
  "method-not-allowed": PROBLEM_TYPES["method-not-allowed"],
  "request-timeout": { status: 408, title: "The request did not arrive in time" },
  "payload-too-large": PROBLEM_TYPES["payload-too-large"],
  "uri-too-long": { status: 414, title: "The request line is too long" },
  "request-header-fields-too-large": { status: 431, title: "The request line and headers are too large" },
  "internal-error": PROBLEM_TYPES["internal-error"],
} as const satisfies Record<string, { status: number; title: string }>;

export type FrontDoorProblem = keyof typeof FRONT_DOOR_PROBLEMS;

/** `problem`: application/problem+json. `gateway`: API Gateway's own `{"message": "Bad Request"}`. */
export type AnswerStyle = "problem" | "gateway";

/**
 * What each front door announces in `Keep-Alive: timeout=5`. Node's agent and undici's fetch let
 * an idle socket go a second before the announced time.
 */
export const ANNOUNCED_IDLE_SECONDS = 5;
/**
 * When a front door really closes an idle socket: long after every client that heeds the
 * announcement has let it go. Closing at the announced time (Node's default, plus its 1 s buffer)
 * raced clients on a busy machine: a client sent on a socket the server was closing and got
 * `other side closed`. Node 24's `keepAliveTimeoutBuffer` widens the same gap.
 */
export const IDLE_SOCKET_CLOSE_MS = 60_000;
/** How long an idle socket stays in a front door's own outgoing pools: less than any front door keeps it. */
export const CLIENT_IDLE_SOCKET_MS = (ANNOUNCED_IDLE_SECONDS - 1) * 1000;
/**
 * The request line and headers a front door reads before it refuses them unread (431). Above API
 * Gateway's 10240 bytes, so a regional API can count them and answer as API Gateway would.
 */
export const MAX_REQUEST_HEAD_BYTES = 128 * 1024;
/** How long a refused client may go on sending before its socket is closed. */
const DRAIN_MS = 10_000;

export interface Answer {
  contentType: string;
  body: string;
}

/** An RFC 9457 problem of the local cloud's own (`urn:calcburst:problem:<slug>`). */
export function problemAnswer(slug: string, type: { status: number; title: string }, detail: string): Answer {
  const { status, title } = type;
  return {
    contentType: PROBLEM_CONTENT_TYPE,
    body: JSON.stringify({ type: `${PROBLEM_TYPE_PREFIX}${slug}`, title, status, detail }),
  };
}

export function answerFor(style: AnswerStyle, problem: FrontDoorProblem, detail: string): Answer {
  const type = FRONT_DOOR_PROBLEMS[problem];
  if (style === "gateway") {
    return { contentType: "application/json", body: JSON.stringify({ message: STATUS_CODES[type.status] }) };
  }
  return problemAnswer(problem, type, detail);
}

export function sendAnswer(
  response: ServerResponse,
  status: number,
  answer: Answer,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    ...headers,
    "content-type": answer.contentType,
    "content-length": String(Buffer.byteLength(answer.body)),
  });
  response.end(answer.body);
}

/** Answers a request with a front-door problem. */
export function refuse(
  response: ServerResponse,
  style: AnswerStyle,
  problem: FrontDoorProblem,
  detail: string,
  headers: Record<string, string> = {},
): void {
  sendAnswer(response, FRONT_DOOR_PROBLEMS[problem].status, answerFor(style, problem, detail), headers);
}

/**
 * The request target as a path and query, unchanged: origin-form as sent, or the path of an
 * absolute-form target (`GET http://host/health`, which RFC 9112 §3.2.2 says servers must
 * accept). Undefined for `*` and anything else that names no path. Never `new URL`: it rewrites
 * `..` segments and backslashes, and throws on targets HTTP lets through.
 */
export function originForm(target: string): string | undefined {
  if (target.startsWith("/")) return target;
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(target);
  if (scheme === null) return undefined;
  const rest = target.slice(scheme[0].length);
  return rest.startsWith("/") ? rest : `/${rest}`;
}

/** Headers that describe one connection, not the message (RFC 9110 §7.6.1); a proxy drops them. */
const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"];

export function withoutHopByHopHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const named = String(headers.connection ?? "")
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== "");
  const kept = { ...headers };
  for (const name of [...HOP_BY_HOP, ...named]) delete kept[name];
  return kept;
}

export interface FrontDoorOptions {
  /** Names the server in the log line of a handler that failed. */
  name: string;
  style: AnswerStyle;
  handle: (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;
}

/** A raw HTTP/1.1 answer for a socket the HTTP server has let go of (a parse error, a CONNECT). */
function rawAnswer(style: AnswerStyle, problem: FrontDoorProblem, detail: string): string {
  const { status } = FRONT_DOOR_PROBLEMS[problem];
  const { contentType, body } = answerFor(style, problem, detail);
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: ${contentType}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}

function parseErrorProblem(code: string | undefined): [FrontDoorProblem, string] {
  switch (code) {
    case "HPE_HEADER_OVERFLOW":
      return [
        "request-header-fields-too-large",
        `The request line and headers exceed ${MAX_REQUEST_HEAD_BYTES} bytes; this server reads no more.`,
      ];
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return ["payload-too-large", "The body's chunk extensions are too large."];
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return ["request-timeout", "The request's headers or body did not arrive in time."];
    default:
      return ["malformed-request", `The request is not valid HTTP/1.1 (${code ?? "unknown parse error"}).`];
  }
}

/**
 * Sends `answer` and closes the socket without a reset: what the client still sends is read and
 * dropped until it closes its side (or DRAIN_MS passes). Closing with unread data would reset the
 * connection, and a reset can destroy the answer before the client reads it.
 */
function answerAndClose(socket: Duplex, answer: string): void {
  socket.on("data", () => undefined);
  socket.once("end", () => socket.destroy());
  socket.once("error", () => socket.destroy());
  const drained = setTimeout(() => socket.destroy(), DRAIN_MS);
  drained.unref();
  socket.once("close", () => clearTimeout(drained));
  socket.end(answer);
}

/** What a front door knows of one connection's requests. */
interface Connection {
  /** Responses begun and not yet closed. */
  open: number;
  /** The latest request and its response. */
  latest?: { request: IncomingMessage; response: ServerResponse };
  /** A parse error's answer that waits for the responses to the requests pipelined before it. */
  waitingAnswer?: string;
  refused: boolean;
}

/**
 * An HTTP server that answers every request line: its handler's answer; a 4xx for what HTTP's
 * parser refuses (bad syntax, a head over MAX_REQUEST_HEAD_BYTES, CONNECT) and for a target that
 * names no path (`OPTIONS *`); a 500, logged with its stack, when the handler fails. The handler
 * sees every target in origin form. Idle keep-alive sockets stay open IDLE_SOCKET_CLOSE_MS while
 * `Keep-Alive: timeout=5` is announced. Not yet listening.
 */
export function createFrontDoor(options: FrontDoorOptions): Server {
  const { name, style, handle } = options;
  const connections = new WeakMap<Duplex, Connection>();
  const connectionOf = (socket: Duplex): Connection => {
    let connection = connections.get(socket);
    if (connection === undefined) {
      connection = { open: 0, refused: false };
      connections.set(socket, connection);
    }
    return connection;
  };

  const server = createServer({ maxHeaderSize: MAX_REQUEST_HEAD_BYTES }, (request, response) => {
    const failed = (error: unknown) => {
      console.error(
        `${name}: ${request.method} ${request.url} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      if (!response.headersSent) refuse(response, style, "internal-error", "The server failed; it is logged.");
      else response.destroy();
    };
    const path = originForm(request.url ?? "");
    if (path === undefined) {
      request.resume();
      return refuse(
        response,
        style,
        "invalid-request-target",
        `The request target ${JSON.stringify(request.url)} names no path; send a path such as /health.`,
      );
    }
    request.url = path;
    try {
      const pending = handle(request, response);
      if (pending instanceof Promise) pending.catch(failed);
    } catch (error) {
      failed(error);
    }
  });
  server.keepAliveTimeout = IDLE_SOCKET_CLOSE_MS;
  // A client that sends its request and shuts its side of the connection still gets the answer:
  // HTTP/1.1 reads no end of a request, nor a lost interest in the answer, into a half-close.
  // Node's default ends such a connection at once, dropping any answer not yet written.
  Object.assign(server, { httpAllowHalfOpen: true });

  server.prependListener("request", (request: IncomingMessage, response: ServerResponse) => {
    // Set by hand, the header replaces Node's, which would announce IDLE_SOCKET_CLOSE_MS.
    response.setHeader("keep-alive", `timeout=${ANNOUNCED_IDLE_SECONDS}`);
    const connection = connectionOf(request.socket);
    connection.open += 1;
    connection.latest = { request, response };
    response.once("close", () => {
      connection.open -= 1;
      if (connection.open > 0 || connection.waitingAnswer === undefined) return;
      answerAndClose(request.socket, connection.waitingAnswer);
      delete connection.waitingAnswer;
    });
  });

  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    const connection = connectionOf(socket);
    // The parser reports again for every chunk that arrives after its first error.
    if (connection.refused) return;
    connection.refused = true;
    if (error.code === "ECONNRESET" || !socket.writable) return void socket.destroy();
    const [problem, detail] = parseErrorProblem(error.code);
    const latest = connection.latest;
    if (latest !== undefined && !latest.request.complete && !latest.response.headersSent) {
      // The error is in the body of a request its handler is still reading: that request gets the answer.
      return refuse(latest.response, style, problem, detail, { connection: "close" });
    }
    const answer = rawAnswer(style, problem, detail);
    // Requests pipelined before the bad one are answered first, in order, as HTTP requires.
    if (connection.open > 0) connection.waitingAnswer = answer;
    else answerAndClose(socket, answer);
  });
  // CONNECT asks for a tunnel, which no front door offers; without a listener Node drops the socket unanswered.
  server.on("connect", (_request: IncomingMessage, socket: Duplex) => {
    answerAndClose(socket, rawAnswer(style, "method-not-allowed", "This server opens no tunnels (CONNECT)."));
  });

  return server;
}
