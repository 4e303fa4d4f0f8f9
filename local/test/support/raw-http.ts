import { connect } from "node:net";

export interface RawExchange {
  /** Every byte the server sent before it closed the connection. */
  answer: Buffer;
  /** The status code of each response in the answer, in order. */
  statuses: number[];
  /** Set when the connection ended in an error (a reset) rather than a close. */
  error?: string;
}

/**
 * Sends `request` as raw bytes on a fresh TCP connection, says it has nothing more to send, and
 * collects what comes back until the server closes. Rejects when the server neither answers nor
 * closes within `timeoutMs`.
 */
export function sendRaw(url: string, request: Buffer | string, timeoutMs = 10_000): Promise<RawExchange> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    let error: string | undefined;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer and no close within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", (failure: NodeJS.ErrnoException) => {
      error = failure.code ?? failure.message;
    });
    socket.on("close", () => {
      clearTimeout(timer);
      const answer = Buffer.concat(chunks);
      const statuses = [...answer.toString("latin1").matchAll(/(?:^|\r\n)HTTP\/1\.[01] (\d{3}) /g)].map((match) =>
        Number(match[1]),
      );
      resolve({ answer, statuses, ...(error !== undefined && { error }) });
    });
    socket.end(request);
  });
}

/** The body of the first response of an exchange (Content-Length or chunked). */
export function firstBody(exchange: RawExchange): string {
  const text = exchange.answer.toString("latin1");
  const headEnd = text.indexOf("\r\n\r\n");
  const head = text.slice(0, headEnd);
  let rest = text.slice(headEnd + 4);
  const length = /\r\ncontent-length: (\d+)/i.exec(head)?.[1];
  if (length !== undefined) return Buffer.from(rest.slice(0, Number(length)), "latin1").toString("utf8");
  if (!/\r\ntransfer-encoding: chunked/i.test(head)) return Buffer.from(rest, "latin1").toString("utf8");
  let body = "";
  for (;;) {
    const sizeEnd = rest.indexOf("\r\n");
    const size = Number.parseInt(rest.slice(0, sizeEnd), 16);
    if (!(size > 0)) return Buffer.from(body, "latin1").toString("utf8");
    body += rest.slice(sizeEnd + 2, sizeEnd + 2 + size);
    rest = rest.slice(sizeEnd + 2 + size + 2);
  }
}
