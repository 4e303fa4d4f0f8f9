import { isUtf8 } from "node:buffer";
import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEventV2 } from "aws-lambda";

/** What an HTTP request looks like before API Gateway turns it into a payload-2.0 event. */
export interface HttpRequestSpec {
  method: string;
  /** Path with an optional query string, e.g. `/v1/calculations?x=1`. */
  path: string;
  /** Header names in any case; a repeated header is given as an array. */
  headers?: Record<string, string | string[] | undefined>;
  body?: string | Buffer;
  sourceIp?: string;
  requestId?: string;
  domainName?: string;
  now?: Date;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** API Gateway's `requestContext.time` format: `12/Mar/2020:19:03:58 +0000`. */
function clfTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/** Text bodies arrive as text; API Gateway base64-encodes anything else. */
function isTextContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return true;
  return /^(text\/|application\/([\w.+-]*json|xml|x-www-form-urlencoded|javascript))/i.test(contentType);
}

/**
 * Builds the event an API Gateway HTTP API (payload format 2.0, `$default` stage) hands to
 * Lambda: lower-cased header names, repeated headers joined with commas, cookies split out,
 * query parameters parsed, and a base64 body for non-text content and for bytes that are not UTF-8.
 */
export function buildHttpApiEvent(spec: HttpRequestSpec): APIGatewayProxyEventV2 {
  const now = spec.now ?? new Date();
  const queryStart = spec.path.indexOf("?");
  const rawPath = queryStart === -1 ? spec.path : spec.path.slice(0, queryStart);
  const rawQueryString = queryStart === -1 ? "" : spec.path.slice(queryStart + 1);

  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(spec.headers ?? {})) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    const values = Array.isArray(value) ? value : [value];
    if (lower === "cookie") {
      cookies = values.flatMap((v) => v.split(/;\s*/)).filter((c) => c.length > 0);
      continue;
    }
    headers[lower] = headers[lower] === undefined ? values.join(",") : `${headers[lower]},${values.join(",")}`;
  }

  const queryStringParameters: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(rawQueryString)) {
    queryStringParameters[key] =
      queryStringParameters[key] === undefined ? value : `${queryStringParameters[key]},${value}`;
  }

  const domainName = spec.domainName ?? headers.host ?? "localhost";
  const requestId = spec.requestId ?? randomUUID();
  const event: APIGatewayProxyEventV2 = {
    version: "2.0",
    routeKey: "$default",
    rawPath,
    rawQueryString,
    headers,
    requestContext: {
      accountId: "000000000000",
      apiId: "local",
      domainName,
      domainPrefix: domainName.split(".")[0] ?? domainName,
      http: {
        method: spec.method.toUpperCase(),
        path: rawPath,
        protocol: "HTTP/1.1",
        sourceIp: spec.sourceIp ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId,
      routeKey: "$default",
      stage: "$default",
      time: clfTime(now),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: false,
  };
  if (cookies !== undefined) event.cookies = cookies;
  if (rawQueryString !== "") event.queryStringParameters = queryStringParameters;
  if (spec.body !== undefined && spec.body.length > 0) {
    const buffer = typeof spec.body === "string" ? Buffer.from(spec.body) : spec.body;
    // Bytes that are not UTF-8 travel as base64 whatever the content type: as text they would be
    // replaced (three bytes of U+FFFD each), and the function could neither refuse them nor count them.
    const asText = isTextContentType(headers["content-type"]) && isUtf8(buffer);
    event.body = asText ? buffer.toString("utf8") : buffer.toString("base64");
    event.isBase64Encoded = !asText;
  }
  return event;
}
