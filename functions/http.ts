import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { LIMITS } from "../shared/limits.js";
import { PROBLEM_TYPES, type ProblemSlug, problemTypeUri } from "../shared/problem.js";
import type { ErrorDetail } from "../shared/responses.js";

export type HttpResponse = APIGatewayProxyStructuredResultV2 & {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
};

/** A problem before the serving region and duration are stamped on it. */
export interface ProblemInit {
  slug: ProblemSlug;
  detail: string;
  errors?: ErrorDetail[];
  headers?: Record<string, string>;
  extensions?: Record<string, unknown>;
}

export class ProblemError extends Error {
  constructor(readonly problem: ProblemInit) {
    super(problem.detail);
  }
}

export function problemBody(problem: ProblemInit) {
  const { status, title } = PROBLEM_TYPES[problem.slug];
  return {
    type: problemTypeUri(problem.slug),
    title,
    status,
    detail: problem.detail,
    ...(problem.errors !== undefined ? { errors: problem.errors } : {}),
    ...problem.extensions,
  };
}

export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
  contentType = "application/json",
): HttpResponse {
  return {
    statusCode,
    headers: { "content-type": contentType, "cache-control": "no-store", ...headers },
    body: JSON.stringify(body),
  };
}

/** A JSON Pointer (RFC 6901) for a path such as ["operands", 3]. */
export function toPointer(path: readonly PropertyKey[]): string {
  return path.map((segment) => `/${String(segment).replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");
}

/** `operands[3]`, `items[0].operation`: how a person names a field. */
export function toFieldName(path: readonly PropertyKey[]): string {
  let name = "";
  for (const segment of path) {
    name += typeof segment === "number" ? `[${segment}]` : name === "" ? String(segment) : `.${String(segment)}`;
  }
  return name === "" ? "the body" : name;
}

/**
 * A request header by its lower-case name. API Gateway lower-cases names in payload 2.0; a
 * hand-built event (a test, another proxy) may not, so other spellings are found too.
 */
export function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const headers = event.headers;
  if (headers === undefined || headers === null) return undefined;
  const exact = headers[name];
  if (exact !== undefined) return exact;
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return value;
  return undefined;
}

/**
 * The path the routes match. On a named stage (not `$default`) API Gateway puts the stage in
 * front of rawPath: `/prod/v1/calculations`.
 */
export function routePath(event: APIGatewayProxyEventV2): string {
  const { rawPath } = event;
  const stage = event.requestContext.stage;
  if (stage !== undefined && stage !== "$default" && rawPath.startsWith(`/${stage}/`))
    return rawPath.slice(stage.length + 1);
  return rawPath;
}

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

// A byte-order mark stays in, so JSON.parse refuses it as it does in a text body.
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Only a number token with an exponent of 3+ digits or a run of 200+ digits can leave a double's range. */
const MAYBE_BEYOND_DOUBLE = /[eE][+-]?\d{3}|\d{200}/;
const NUMBER_TOKEN = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const STRING_TOKEN = /"(?:[^"\\]|\\.)*"/y;

/**
 * Number tokens of valid JSON text that JSON.parse would flush to 0 (`1e-400`) or to ±Infinity
 * (`1e400`), replaced by the nearest double that keeps their side of the range: the smallest
 * positive double, or the largest. So an operand that is too small reaches the range check as
 * the non-zero number it is (422), never as 0, and one too large as a number (422), like its
 * decimal-string form.
 */
function keepNumbersOutOfRange(text: string): string {
  if (!MAYBE_BEYOND_DOUBLE.test(text)) return text;
  let kept = "";
  let copiedUpTo = 0;
  for (let index = 0; index < text.length; ) {
    const char = text[index];
    const token =
      char === '"'
        ? STRING_TOKEN
        : char === "-" || (char !== undefined && char >= "0" && char <= "9")
          ? NUMBER_TOKEN
          : undefined;
    if (token === undefined) {
      index += 1;
      continue;
    }
    token.lastIndex = index;
    const match = token.exec(text)?.[0] ?? char ?? "";
    if (token === NUMBER_TOKEN) {
      const value = Number(match);
      const mantissa = match.split(/[eE]/)[0] ?? "";
      const flushedToZero = value === 0 && /[1-9]/.test(mantissa);
      if (flushedToZero || !Number.isFinite(value)) {
        const negative = match.startsWith("-") ? "-" : "";
        kept += `${text.slice(copiedUpTo, index)}${negative}${flushedToZero ? Number.MIN_VALUE : Number.MAX_VALUE}`;
        copiedUpTo = index + match.length;
      }
    }
    index += match.length;
  }
  return copiedUpTo === 0 ? text : kept + text.slice(copiedUpTo);
}

/**
 * Reads the body as JSON: 413 over the limit (in bytes as sent), 415 for a non-JSON content
 * type, 400 if it is not UTF-8 or not JSON.
 */
export function readJsonBody(event: APIGatewayProxyEventV2): unknown {
  const raw = event.body ?? "";
  const bytes = event.isBase64Encoded ? Buffer.from(raw, "base64") : undefined;
  const size = bytes?.length ?? Buffer.byteLength(raw);
  if (size > LIMITS.maxBodyBytes) {
    throw new ProblemError({
      slug: "payload-too-large",
      detail: `The body is ${size} bytes; the limit is ${LIMITS.maxBodyBytes} bytes (64 KiB). Split large work into batches.`,
    });
  }
  const contentType = header(event, "content-type");
  const mediaType = contentType?.split(";")[0]?.trim() ?? "";
  if (!JSON_MEDIA_TYPE.test(mediaType)) {
    throw new ProblemError({
      slug: "unsupported-media-type",
      detail:
        contentType === undefined
          ? "The request has no Content-Type header; send Content-Type: application/json."
          : `Content-Type ${JSON.stringify(contentType)} is not supported; send Content-Type: application/json.`,
      errors: [{ header: "content-type", detail: "must be application/json" }],
    });
  }
  let text = raw;
  if (bytes !== undefined) {
    try {
      text = strictUtf8.decode(bytes);
    } catch {
      throw new ProblemError({
        slug: "invalid-json",
        detail: "The request body is not UTF-8; JSON must be (RFC 8259).",
      });
    }
  }
  if (text.trim() === "") {
    throw new ProblemError({ slug: "invalid-json", detail: "The request body is empty; send a JSON object." });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ProblemError({
      slug: "invalid-json",
      detail: `The request body is not valid JSON: ${(error as Error).message}.`,
    });
  }
  const kept = keepNumbersOutOfRange(text);
  return kept === text ? parsed : JSON.parse(kept);
}

interface SchemaIssue {
  code: string;
  path: PropertyKey[];
  message: string;
  keys?: string[];
  expected?: string;
}

function issueSentence(issue: SchemaIssue): string {
  if (issue.code === "unrecognized_keys") return `is not a known field`;
  if (issue.message !== "Invalid input") return issue.message;
  if (issue.code === "invalid_type" && issue.expected === "object") return "must be a JSON object";
  if (issue.code === "invalid_type") return `must be of type ${issue.expected}`;
  return "is not valid";
}

/** Turns schema issues into problem errors with a JSON Pointer and a sentence each. */
export function issuesToErrors(issues: readonly SchemaIssue[], prefix: readonly PropertyKey[] = []): ErrorDetail[] {
  return issues.flatMap((issue) => {
    const paths =
      issue.code === "unrecognized_keys" && issue.keys !== undefined
        ? issue.keys.map((key) => [...prefix, ...issue.path, key])
        : [[...prefix, ...issue.path]];
    return paths.map((path) => ({
      pointer: toPointer(path),
      detail: `${toFieldName(path)} ${issueSentence(issue)}.`,
    }));
  });
}

export function validationProblem(errors: ErrorDetail[]): ProblemInit {
  const [first] = errors;
  const more =
    errors.length > 1
      ? ` (and ${errors.length - 1} more problem${errors.length > 2 ? "s" : ""}, listed in errors)`
      : "";
  const sentence = first?.detail ?? "The request is not valid.";
  return {
    slug: "validation-failed",
    detail: more === "" ? sentence : `${sentence.replace(/\.$/, "")}${more}.`,
    errors,
  };
}
